"""Confirms per delivery tag, destinations, and the bodies on the wire."""

import json

import oslo_messaging
import pytest

from scheduler_worker import context
from scheduler_worker import publisher
from scheduler_worker.db.cinder import api as cinder_api
from tests import fixtures


def _confirms(count, *events):
    confirms = publisher._Confirms(count)
    for kind, tag, multiple in events:
        handler = confirms.on_ack if kind == 'ack' else confirms.on_nack
        handler(tag, multiple)
    return confirms


def test_acks_out_of_order_confirm_exactly_their_tags():
    confirms = _confirms(4, ('ack', 3, False), ('ack', 1, False))
    assert (confirms.acked, confirms.outstanding) == ({1, 3}, {2, 4})


def test_an_ack_of_a_high_tag_does_not_hide_an_earlier_nack():
    # NOTE: counting only the highest confirmed tag would take 1..4 for
    # confirmed once 4 is acked, and lose the refusal of 2.
    confirms = _confirms(4, ('ack', 4, False), ('nack', 2, False),
                         ('ack', 1, False), ('ack', 3, False))
    assert (confirms.acked, confirms.nacked) == ({1, 3, 4}, {2})
    assert confirms.outstanding == set()


def test_multiple_ack_settles_every_outstanding_tag_up_to_its_own():
    confirms = _confirms(6, ('nack', 2, False), ('ack', 4, True))
    assert (confirms.acked, confirms.nacked) == ({1, 3, 4}, {2})
    assert confirms.outstanding == {5, 6}


def test_multiple_nack_fails_exactly_the_outstanding_tags_it_covers():
    confirms = _confirms(5, ('ack', 1, False), ('ack', 3, False),
                         ('nack', 4, True), ('ack', 5, False))
    assert (confirms.acked, confirms.nacked) == ({1, 3, 5}, {2, 4})


def test_multiple_with_tag_zero_settles_everything_outstanding():
    confirms = _confirms(3, ('ack', 2, False), ('nack', 0, True))
    assert (confirms.acked, confirms.nacked) == ({2}, {1, 3})


def test_a_repeated_or_unknown_tag_changes_nothing():
    confirms = _confirms(2, ('ack', 1, False), ('nack', 1, False),
                         ('ack', 7, False))
    assert (confirms.acked, confirms.nacked, confirms.outstanding) == (
        {1}, set(), {2})


@pytest.mark.parametrize('topic, server, key', [
    ('notifications.info', None, 'notifications.info'),
    ('cinder-volume.lab-host@fake', 'lab-host',
     'cinder-volume.lab-host@fake.lab-host')])
def test_routing_key_is_the_topic_or_topic_dot_server(topic, server, key):
    assert publisher.routing_key(topic, server) == key


def test_a_cast_body_is_what_cinder_put_on_the_wire():
    capture = fixtures.wire_sample('e2e_fake_backend/'
                                   'scheduler_to_volume_casts.json')[0]
    sent = capture['message']
    # NOTE: the raw body keeps the order the context had in Cinder.
    raw = json.loads(json.loads(capture['raw_body'])['oslo.message'])
    ctxt = {key[len('_context_'):]: value for key, value in raw.items()
            if key.startswith('_context_')}
    body = publisher.wire_body(ctxt, {'method': sent['method'],
                                      'args': sent['args'],
                                      'version': sent['version']}, 2.0)
    envelope = json.loads(body)
    assert set(envelope) == {'oslo.version', 'oslo.message'}
    assert envelope['oslo.version'] == capture['envelope']['oslo.version']
    message = json.loads(envelope['oslo.message'])
    assert len(message.pop('_unique_id')) == 32
    expected = dict(sent)
    expected.pop('_unique_id')
    assert message == expected
    # NOTE: the same key order as oslo.messaging's client, key for key.
    raw.pop('_unique_id')
    assert list(message) == list(raw)


def test_masked_body_shows_the_message_without_its_secrets():
    ctxt = context.RequestContext('u', 'p', auth_token='s3cret-token')
    body = publisher.wire_body(ctxt.to_dict(), {
        'method': 'create_volume', 'version': '3.0',
        'args': {'volume': {'id': 'v1'}, 'admin_password': 'pw'}}, 2.0)
    logged = publisher.masked(body)
    assert 's3cret-token' not in logged and 'pw"' not in logged
    message = json.loads(logged)
    assert message['_context_auth_token'] == '***'
    assert message['args'] == {'volume': {'id': 'v1'},
                               'admin_password': '***'}
    assert message['_context_user_id'] == 'u'


def test_send_on_fake_reports_what_the_driver_took():
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(transport)
    try:
        sender = publisher.Publisher(transport, 2.0)
        ctxt = context.RequestContext('u', 'p').to_dict()
        rows = [{'id': 'r%d' % i, 'kind': publisher.NOTIFICATION,
                 'exchange': sender.exchange(publisher.NOTIFICATION),
                 'topic': 'notifications.info', 'server': None,
                 'body': publisher.wire_body(ctxt, {
                     'message_id': 'm%d' % i, 'publisher_id': 'scheduler.h',
                     'event_type': 'e.%d' % i, 'priority': 'INFO',
                     'payload': {}, 'timestamp': 't'}, 2.0)}
                for i in range(3)]
        assert sender.send(rows) == {'r0', 'r1', 'r2'}
        notes = capture.wait_for('e.2', 1)
        assert sorted(n['event_type'] for n in capture.received) == [
            'e.0', 'e.1', 'e.2']
        assert notes[0]['metadata']['message_id'] == 'm2'
    finally:
        capture.stop()
        transport.cleanup()


def test_the_cinder_backend_knows_an_outbox_cast_by_its_kind():
    # NOTE: db.workers_cleanup finds hand-offs still in the outbox by the
    # kind the publisher gives a cast's row (the database layer cannot
    # import the publisher).
    assert cinder_api.OUTBOX_RPC_CAST == publisher.RPC_CAST
