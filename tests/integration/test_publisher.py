"""Bulk publishing puts exactly oslo.messaging's notifications on the wire."""

import json
import uuid

import kombu
import oslo_messaging
import pytest

from scheduler_worker import context
from scheduler_worker import publisher
from tests import fixtures


@pytest.fixture
def transport(rabbit_vhost):
    conf = fixtures.make_conf(transport_url=rabbit_vhost.transport_url)
    transport = oslo_messaging.get_notification_transport(conf)
    yield transport
    transport.cleanup()


def _drain(amqp_url, queue):
    with kombu.Connection(amqp_url) as conn:
        messages = []
        while (m := conn.default_channel.basic_get(queue,
                                                   no_ack=True)) is not None:
            messages.append(m)
        return messages


def _message(i):
    return {'message_id': str(uuid.uuid4()), 'publisher_id': 'scheduler.h',
            'event_type': 'scheduler.create_volume.end', 'priority': 'INFO',
            'payload': {'volume_id': str(i)}, 'timestamp': '2026-11-28'}


def test_bulk_messages_match_oslo_notifier_messages(rabbit_vhost, transport):
    topic = fixtures.unique_name('sw-pub')
    ctxt = context.RequestContext('u', 'p', auth_token='secret')
    oslo_messaging.Notifier(transport, 'scheduler.h', driver='messagingv2',
                            topics=[topic]).info(ctxt, 'oslo.reference', {})
    reference = _drain(rabbit_vhost.amqp_url, topic + '.info')[0]

    bulk = publisher.Publisher(transport, version=2.0)
    batches = [[_message(i) for i in range(start, start + 150)]
               for start in (0, 150, 300)]
    redacted = ctxt.redacted_copy().to_dict()
    for batch in batches:
        bulk.publish(topic + '.info',
                     [publisher.wire_body(redacted, m, 2.0) for m in batch])
    received = _drain(rabbit_vhost.amqp_url, topic + '.info')

    assert [json.loads(json.loads(m.body)['oslo.message'])['message_id']
            for m in received] == [m['message_id'] for b in batches
                                   for m in b]
    for message in (received[0], received[1], received[-1]):
        for prop in ('content_type', 'content_encoding', 'delivery_mode',
                     'priority'):
            assert message.properties.get(prop) == (
                reference.properties.get(prop)), prop
        envelope = json.loads(message.body)
        assert set(envelope) == set(json.loads(reference.body))
        inner = json.loads(envelope['oslo.message'])
        ref_inner = json.loads(json.loads(reference.body)['oslo.message'])
        assert set(inner) >= set(ref_inner) - {'_context_timestamp'}
        assert inner['_context_auth_token'] is None
    unique_ids = {json.loads(json.loads(m.body)['oslo.message'])['_unique_id']
                  for m in received}
    assert len(unique_ids) == 450


def test_publish_returns_once_every_message_is_confirmed(rabbit_vhost):
    # NOTE: the driver's heartbeat thread drains a sending connection's
    # socket under its lock every heartbeat_timeout_threshold /
    # heartbeat_rate / 2 seconds (here 10 ms). Waiting for confirms beside
    # it, frames split between the two threads and the broker drops the
    # connection for missed heartbeats; and confirms counted on the
    # driver's channel, whose tags did not start with ours, end the wait
    # early. Each publish returns with all its messages in the queue.
    conf = fixtures.make_conf(
        transport_url=rabbit_vhost.transport_url,
        oslo_messaging_rabbit__heartbeat_timeout_threshold=2,
        oslo_messaging_rabbit__heartbeat_rate=100)
    transport = oslo_messaging.get_notification_transport(conf)
    topic = fixtures.unique_name('sw-pub') + '.info'
    bulk = publisher.Publisher(transport, version=2.0)
    redacted = context.RequestContext('u', 'p').to_dict()
    depths = []
    try:
        for start in range(0, 200 * 16, 16):
            bulk.publish(topic, [publisher.wire_body(redacted, _message(i),
                                                     2.0)
                                 for i in range(start, start + 16)])
            if start % 800 == 0:
                depths.append(
                    fixtures.queue_depth(rabbit_vhost.amqp_url, topic))
    finally:
        transport.cleanup()
    assert depths == [16, 816, 1616, 2416]
    assert len(_drain(rabbit_vhost.amqp_url, topic)) == 3200


def test_publish_raises_when_the_broker_refuses_part_of_a_batch(
        rabbit_vhost, transport):
    topic = fixtures.unique_name('sw-pub') + '.info'
    bulk = publisher.Publisher(transport, version=2.0)
    redacted = context.RequestContext('u', 'p').to_dict()

    def bodies(start):
        return [publisher.wire_body(redacted, _message(i), 2.0)
                for i in range(start, start + 16)]
    # NOTE: the first batch declares the exchange and the topic's queue,
    # and moves the driver's channel past tag 16: a count that assumes the
    # batch's tags start at 1 takes the first confirm of the next batch
    # for the last.
    bulk.publish(topic, bodies(0))
    with kombu.Connection(rabbit_vhost.amqp_url) as conn:
        limited = kombu.Queue(
            topic + '.limited',
            kombu.Exchange('openstack', 'topic', passive=True),
            routing_key=topic, durable=True,
            queue_arguments={'x-max-length': 8,
                             'x-overflow': 'reject-publish'})
        limited(conn.default_channel).declare()

    with pytest.raises(publisher.NotConfirmed) as refused:
        bulk.publish(topic, bodies(16))
    # NOTE: the limited queue takes 8 and refuses the rest: exactly those
    # 8 are confirmed, whatever order and grouping the confirms came in.
    assert refused.value.confirmed == set(range(8))


def _bodies(start, count=16):
    redacted = context.RequestContext('u', 'p').to_dict()
    return [publisher.wire_body(redacted, _message(i), 2.0)
            for i in range(start, start + count)]


def _volume_ids(messages):
    return [json.loads(json.loads(m.body)['oslo.message'])['payload']
            ['volume_id'] for m in messages]


def test_batches_after_the_first_share_one_confirm_channel(rabbit_vhost,
                                                           transport):
    topic = fixtures.unique_name('sw-pub') + '.info'
    bulk = publisher.Publisher(transport, version=2.0)
    for start in range(0, 80, 16):
        bulk.publish(topic, _bodies(start))
    # NOTE: the first message went through the driver (declaring the
    # queue); the 79 others on one channel, opened once.
    (kept,) = bulk._channels.values()
    assert (kept.published, kept.channel.is_open) == (79, True)
    assert _volume_ids(_drain(rabbit_vhost.amqp_url, topic)) == [
        str(i) for i in range(80)]


def test_publishing_survives_the_broker_closing_the_connection(
        rabbit_vhost, transport):
    topic = fixtures.unique_name('sw-pub') + '.info'
    bulk = publisher.Publisher(transport, version=2.0)
    bulk.publish(topic, _bodies(0))
    bulk.publish(topic, _bodies(16))
    (broken,) = bulk._channels.values()
    assert fixtures.close_connections(rabbit_vhost.name) >= 1
    # NOTE: the kept channel is dead. Right after the commit the worker
    # publishes with retry=0: the driver does not reconnect then, and what
    # is not confirmed stays in the outbox, which the relay publishes
    # again with retry=1, as here. Whatever was published, or not, before
    # the close, every message gets to the queue.
    batch = _bodies(32)
    try:
        bulk.publish(topic, batch)
    except publisher.NotConfirmed as exc:
        bulk.publish(topic, [body for index, body in enumerate(batch)
                             if index not in exc.confirmed], retry=1)
    bulk.publish(topic, _bodies(48))
    (kept,) = bulk._channels.values()
    assert kept is not broken and kept.channel.is_open
    # NOTE: at least once: a message published but not confirmed before
    # the close may come twice.
    assert sorted(set(_volume_ids(_drain(rabbit_vhost.amqp_url, topic))),
                  key=int) == [str(i) for i in range(64)]


def _cast_sample():
    return fixtures.wire_sample(
        'e2e_fake_backend/scheduler_to_volume_casts.json')[0]


class _VolumeService:
    """An oslo.messaging RPC server where cinder-volume would listen."""

    target = oslo_messaging.Target(version='3.0')

    def __init__(self):
        self.received = []

    def create_volume(self, ctxt, **kwargs):
        self.received.append((ctxt, kwargs))


def test_casts_reach_an_rpc_server_as_cinder_sends_them(rabbit_vhost):
    conf = fixtures.make_conf(transport_url=rabbit_vhost.transport_url)
    transport = oslo_messaging.get_rpc_transport(conf)
    sample = _cast_sample()
    sent = sample['message']
    topic, server = 'cinder-volume.lab-host@fake', 'lab-host'
    service = _VolumeService()
    rpc_server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=topic, server=server),
        [service])
    rpc_server.start()
    ctxt = {key[len('_context_'):]: value for key, value in sent.items()
            if key.startswith('_context_')}
    message = {'method': 'create_volume', 'args': sent['args'],
               'version': '3.0'}
    audit = fixtures.unique_name('sw-casts')
    try:
        with kombu.Connection(rabbit_vhost.amqp_url) as conn:
            kombu.Queue(audit, kombu.Exchange('openstack', 'topic',
                                              durable=False),
                        routing_key='%s.%s' % (topic, server))(
                            conn.default_channel).declare()
        bulk = publisher.Publisher(transport, version=2.0)
        bulk.publish(topic, [publisher.wire_body(ctxt, message, 2.0)
                             for _ in range(3)],
                     kind=publisher.RPC_CAST, server=server)
        fixtures.wait_until(lambda: len(service.received) == 3,
                            what='the casts to reach the server')
    finally:
        rpc_server.stop()
        rpc_server.wait()
        transport.cleanup()
    for received_ctxt, kwargs in service.received:
        assert kwargs == sent['args']
        assert received_ctxt['auth_token'] == sent['_context_auth_token']
        assert received_ctxt['request_id'] == sent['_context_request_id']
    # NOTE: the first through the driver, the others on our channel: all
    # with the properties and routing of Cinder's cast.
    copies = _drain(rabbit_vhost.amqp_url, audit)
    assert len(copies) == 3
    for copy in copies:
        assert copy.delivery_info['exchange'] == (
            sample['delivery_info']['exchange'])
        assert copy.delivery_info['routing_key'] == (
            sample['delivery_info']['routing_key'])
        for prop, value in sample['amqp_properties'].items():
            assert copy.properties.get(prop) == value, prop
        envelope = json.loads(copy.body)
        assert envelope['oslo.version'] == '2.0'
        inner = json.loads(envelope['oslo.message'])
        assert {k: v for k, v in inner.items() if k != '_unique_id'} == {
            k: v for k, v in sent.items() if k != '_unique_id'}
