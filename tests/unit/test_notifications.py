import datetime
import json
import logging

import oslo_messaging
from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker.db import api as db
from scheduler_worker.db.sqlalchemy import models
from tests import fixtures


def test_usage_payload_has_every_field_cinder_sends():
    cinder = fixtures.wire_sample(
        'cinder_volume_create_end_notification.json')['message']['payload']
    volume = objects.Volume(
        id='d4b75fa5-eb67-4d4b-a846-55943b7c08f8', size=1, status='creating',
        project_id='p', user_id='u', host='h@b#p', availability_zone='nova',
        display_name='n', display_description=None, volume_type_id=None,
        snapshot_id=None, metadata={'purpose': 'wire-sample'},
        created_at=datetime.datetime(2026, 11, 28, 6, 30, 32, 439128),
        scheduled_at=None, launched_at=None)
    payload = notifications.volume_usage(volume.obj_get_changes())
    assert set(cinder) <= set(payload)
    assert payload['metadata'] == cinder['metadata']
    assert payload['created_at'] == '2026-11-28T06:30:32.439128+00:00'
    assert payload['tenant_id'] == 'p'


def test_failure_reason_is_spelled_like_cinder():
    exc = exception.NoValidBackend(reason='No weighed backends available')
    cinder = fixtures.wire_sample(
        'cinder_scheduler_create_volume_error_notification.json')
    assert notifications.exception_reason(exc) == (
        cinder['message']['payload']['reason'])


# The outbox: staged rows, sends that fail, backoff, giving up, casts.

END = notifications.CREATE_END


@pytest.fixture
def outbox(sqlite_db):
    """An Outbox on fake://, its capture, and the database under it."""
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(transport)
    yield (notifications.Outbox(conf, transport, 'unit'), capture,
           sqlite_db)
    capture.stop()
    transport.cleanup()


@pytest.fixture
def unreachable(sqlite_db):
    """An Outbox whose broker refuses connections, and its factory."""
    transports = []

    def make(**options):
        conf = fixtures.make_conf(
            transport_url='rabbit://guest:guest@127.0.0.1:%d/'
            % fixtures.free_port(), **options)
        transports.append(oslo_messaging.get_notification_transport(conf))
        return notifications.Outbox(conf, transports[-1], 'unit')
    yield make
    for transport in transports:
        transport.cleanup()


def _stored(database) -> list:
    with database.engine.connect() as connection:
        return list(connection.execute(sa.select(
            models.OutboxMessage.__table__)))


def _ctxt(**kwargs):
    return context.RequestContext('u', 'p', auth_token='s3cret', **kwargs)


def test_a_notification_is_staged_once_per_topic_for_the_relay_later(
        sqlite_db):
    conf = fixtures.make_conf(
        transport_url='fake:/', scheduler__outbox_relay_interval=7,
        oslo_messaging_notifications__topics=['notifications', 'audit'])
    transport = oslo_messaging.get_notification_transport(conf)
    try:
        rows = notifications.Outbox(conf, transport, 'h').stage(
            _ctxt(), END, 'INFO', {'volume_id': 'v'})
    finally:
        transport.cleanup()
    assert [(r['kind'], r['exchange'], r['topic'], r['server'])
            for r in rows] == [
        ('notification', 'openstack', 'notifications.info', None),
        ('notification', 'openstack', 'audit.info', None)]
    assert len({r['id'] for r in rows}) == 2
    messages = [json.loads(json.loads(r['body'])['oslo.message'])
                for r in rows]
    assert len({m['message_id'] for m in messages}) == 1
    assert {m['_context_auth_token'] for m in messages} == {None}
    for row in rows:
        assert row['attempts'] == 0
        assert row['next_attempt_at'] - row['created_at'] == (
            datetime.timedelta(seconds=7))


def test_published_rows_are_delivered_and_forgotten(outbox):
    box, capture, database = outbox
    rows = box.stage(_ctxt(), END, 'INFO', {'volume_id': 'v1'})
    box.add(rows)
    [note] = capture.wait_for(END, 1)
    assert note['payload'] == {'volume_id': 'v1'}
    assert _stored(database) == []


def test_a_row_the_relay_already_tried_is_not_published_again(outbox):
    box, capture, database = outbox
    rows = box.stage(_ctxt(), END, 'INFO', {'volume_id': 'v1'})
    db.outbox_add(context.get_admin_context(),
                  [dict(r, attempts=1) for r in rows])
    assert box.publish(rows) == 0
    assert capture.received == []
    assert [r.id for r in _stored(database)] == [rows[0]['id']]


def test_a_failed_publish_backs_off_as_attempts_grow(unreachable,
                                                     sqlite_db):
    box = unreachable(scheduler__outbox_relay_interval=10,
                      scheduler__outbox_retry_max_delay=300)
    assert [box.retry_delay(n) for n in range(1, 9)] == [
        10, 20, 40, 80, 160, 300, 300, 300]
    rows = box.stage(_ctxt(), END, 'INFO', {'volume_id': 'v1'})
    before = timeutils.utcnow()
    box.add(rows)
    [row] = _stored(sqlite_db)
    assert row.attempts == 1
    assert row.next_attempt_at - before >= datetime.timedelta(seconds=10)
    assert row.next_attempt_at - before < datetime.timedelta(seconds=20)
    # NOTE: not due yet: the relay leaves it alone.
    assert box.relay() == 0
    assert _stored(sqlite_db)[0].attempts == 1
    _make_due(sqlite_db)
    assert box.relay(retry=0) == 0
    [row] = _stored(sqlite_db)
    assert row.attempts == 2
    assert row.next_attempt_at - timeutils.utcnow() > datetime.timedelta(
        seconds=15)


def _make_due(database) -> None:
    with database.engine.begin() as connection:
        connection.execute(sa.update(models.OutboxMessage.__table__).values(
            next_attempt_at=timeutils.utcnow() - datetime.timedelta(
                seconds=1)))


def test_a_row_is_given_up_after_max_attempts_logged_whole(
        unreachable, sqlite_db, caplog):
    box = unreachable(scheduler__outbox_max_attempts=2)
    rows = box.stage_cast(_ctxt(), 'cinder-volume.h@b', 'h',
                          'create_volume', {'volume': {'id': 'v9'}}, '3.0')
    box.add(rows)
    assert _stored(sqlite_db)[0].attempts == 1
    assert 'Giving up' not in caplog.text
    _make_due(sqlite_db)
    with caplog.at_level(logging.ERROR, logger='scheduler_worker'):
        box.relay(retry=0)
    assert _stored(sqlite_db) == []
    [record] = [r for r in caplog.records if 'Giving up' in r.getMessage()]
    assert record.levelno == logging.ERROR
    logged = record.getMessage()
    assert 'rpc_cast to cinder-volume.h@b.h on exchange openstack after ' \
        '2 failed attempts' in logged
    assert '"volume": {"id": "v9"}' in logged
    assert 's3cret' not in logged


def test_by_default_a_refused_row_is_never_dropped(unreachable, sqlite_db):
    box = unreachable(scheduler__outbox_retry_max_delay=1)
    box.add(box.stage(_ctxt(), END, 'INFO', {'volume_id': 'v1'}))
    for _ in range(3):
        _make_due(sqlite_db)
        box.relay(retry=0)
    assert [r.attempts for r in _stored(sqlite_db)] == [4]


def test_pending_reports_rows_and_age_by_kind(outbox):
    box, _, database = outbox
    assert box.pending() == {'notification': (0, 0.0), 'rpc_cast': (0, 0.0)}
    old = box.stage(_ctxt(), END, 'INFO', {})
    old[0]['created_at'] -= datetime.timedelta(seconds=90)
    db.outbox_add(context.get_admin_context(),
                  old + box.stage(_ctxt(), END, 'INFO', {}))
    pending = box.pending()
    assert pending['rpc_cast'] == (0, 0.0)
    count, age = pending['notification']
    assert count == 2 and 90 <= age < 120


def test_a_cast_from_the_outbox_reaches_the_rpc_server(sqlite_db):
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_rpc_transport(conf)
    received = []

    class Endpoint:
        target = oslo_messaging.Target(version='3.0')

        def create_volume(self, ctxt, volume):
            received.append((ctxt['request_id'], volume))
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic='cinder-volume.h@b',
                                         server='h'), [Endpoint()])
    server.start()
    try:
        box = notifications.Outbox(conf, transport, 'unit',
                                   rpc_transport=transport)
        rows = box.stage_cast(_ctxt(request_id='req-1'), 'cinder-volume.h@b',
                              'h', 'create_volume', {'volume': {'id': 'v'}},
                              '3.0')
        assert [(r['kind'], r['exchange'], r['topic'], r['server'])
                for r in rows] == [
            ('rpc_cast', 'openstack', 'cinder-volume.h@b', 'h')]
        box.add(rows)
        fixtures.wait_until(lambda: received, what='the cast')
    finally:
        server.stop()
        server.wait()
        transport.cleanup()
    assert received == [('req-1', {'id': 'v'})]
    assert _stored(sqlite_db) == []


def test_a_database_error_after_the_commit_leaves_rows_to_the_relay(
        outbox, caplog):
    box, capture, database = outbox
    rows = box.stage(_ctxt(), END, 'INFO', {'volume_id': 'v1'})
    with database.engine.begin() as connection:
        connection.exec_driver_sql('DROP TABLE scheduler_worker_outbox')
    assert box.publish(rows) == 0
    assert capture.received == []
    assert 'Could not claim 1 outbox rows to publish them, the relay ' \
        'will' in caplog.text
