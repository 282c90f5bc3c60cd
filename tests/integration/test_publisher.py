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
