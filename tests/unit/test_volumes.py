"""VolumeCreator against a real SQLite database and a real fake:// notifier.

One cast is a batch of one: every test here goes through the same
create(), with one request or several.
"""

import json
import os
import uuid

from oslo_db import exception as db_exc
import oslo_messaging
import pytest
import sqlalchemy as sa

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import manager as sw_manager
from scheduler_worker import notifications
from scheduler_worker import volumes
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import driver
from tests import fixtures


@pytest.fixture
def creator(sqlite_db):
    with fixtures.volume_creator('unit@lvm#pool', total_gb=12,
                                 max_size=10) as (volume_creator, capture):
        yield volume_creator, capture, sqlite_db


def _ctx(message_id=None):
    return context.RequestContext('u', 'p', message_id=message_id)


def _request(volume, message_id=None, **kwargs):
    return volumes.Request(_ctx(message_id), volume, **kwargs)


def _one(create, volume, message_id=None, **kwargs):
    [result] = create.create([_request(volume, message_id, **kwargs)])
    return result


def _allocated(db):
    return dict(db.rows(
        'SELECT host, allocated_gb FROM scheduler_worker_pools'))


def test_same_message_twice_creates_one_volume(creator):
    create, capture, db = creator
    assert _one(create, {'size': 1}, 'msg-1') is None
    assert _one(create, {'size': 1}, 'msg-1') is None
    assert db.rows('SELECT id FROM volumes') == [
        (volumes.derived_volume_id('msg-1'),)]
    capture.wait_for(notifications.CREATE_END, 1)
    assert _one(create, {'size': 1}, 'msg-2') is None
    capture.wait_for(notifications.CREATE_END, 2)
    assert len(capture.of(notifications.CREATE_END)) == 2
    # NOTE: the redelivery claimed nothing: 1 GiB for each volume.
    assert _allocated(db) == {'unit@lvm#pool': 2}


def test_the_same_cast_twice_in_one_batch_is_stored_once(creator):
    create, capture, db = creator
    volume_id = str(uuid.uuid4())
    results = create.create([_request({'id': volume_id, 'size': 2}),
                             _request({'id': volume_id, 'size': 2}),
                             _request({'size': 1}, 'msg-1'),
                             _request({'size': 1}, 'msg-1')])
    assert results == [None] * 4
    assert sorted(db.rows('SELECT id FROM volumes')) == sorted(
        [(volume_id,), (volumes.derived_volume_id('msg-1'),)])
    assert _allocated(db) == {'unit@lvm#pool': 3}
    capture.wait_for(notifications.CREATE_END, 2)
    assert len(capture.of(notifications.CREATE_END)) == 2


def test_a_batch_is_stored_with_one_outcome_and_notification_each(creator):
    create, capture, db = creator
    ids = [str(uuid.uuid4()) for _ in range(5)]
    results = create.create([_request({'id': i, 'size': 2}) for i in ids])
    assert results == [None] * 5
    rows = db.rows('SELECT id, host, status FROM volumes')
    assert sorted(r.id for r in rows) == sorted(ids)
    assert {(r.host, r.status) for r in rows} == {('unit@lvm#pool',
                                                   'creating')}
    notes = capture.wait_for(notifications.CREATE_END, 5)
    assert sorted(n['payload']['volume_id'] for n in notes) == sorted(ids)
    assert _allocated(db) == {'unit@lvm#pool': 10}
    assert db.rows('SELECT count(*) FROM scheduler_worker_outbox') == [(0,)]


def test_refusals_and_overflow_are_recorded_beside_the_stored(creator):
    create, capture, db = creator
    ids = [str(uuid.uuid4()) for _ in range(4)]
    results = create.create([_request({'id': ids[0], 'size': 5}),
                             _request({'id': ids[1], 'size': 0}),
                             _request({'id': ids[2], 'size': 5}),
                             _request({'id': ids[3], 'size': 5})])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], exception.Refused)
    assert isinstance(results[1].cause, exception.InvalidVolume)
    # NOTE: 12 GiB hold two 5 GiB volumes; the third is refused.
    assert isinstance(results[3].cause, exception.NoValidBackend)
    statuses = dict(db.rows('SELECT id, status FROM volumes'))
    assert [statuses[i] for i in ids] == ['creating', 'error', 'creating',
                                          'error']
    assert _allocated(db) == {'unit@lvm#pool': 10}
    errors = capture.wait_for(notifications.CREATE_ERROR, 2)
    assert sorted(n['payload']['volume_id'] for n in errors) == sorted(
        [ids[1], ids[3]])


def test_refused_duplicate_is_not_reported_twice(creator):
    create, capture, db = creator
    volume_id = 'f0c9a8e4-0b6a-4d4e-9d59-5d1a6b1c2d3e'
    first = _one(create, {'id': volume_id, 'size': 11})
    assert isinstance(first.cause, exception.InvalidVolume)
    assert _one(create, {'id': volume_id, 'size': 11}) is None
    capture.wait_for(notifications.CREATE_ERROR, 1)
    assert _one(create, {'size': 1}) is None
    capture.wait_for(notifications.CREATE_END, 1)
    assert len(capture.of(notifications.CREATE_ERROR)) == 1
    assert db.rows('SELECT status, size FROM volumes WHERE id = :id',
                   id=volume_id) == [('error', None)]


@pytest.mark.parametrize('volume,refusal,expected', [
    (None, exception.InvalidVolume, 'volume is required'),
    ('vol', exception.InvalidVolume, 'must be an object'),
    (42, exception.InvalidVolume, 'must be an object'),
    (['size', 1], exception.InvalidVolume, 'must be an object'),
    ({'id': 'volume-1', 'size': 1}, exception.InvalidVolume,
     'id must be a UUID'),
    (primitives.Primitive('Snapshot', 'cinder', '1.0', {'size': 1}),
     exception.UnsupportedObject,
     'volume must be a plain object or a Volume 1.x'),
    (primitives.Primitive('Volume', 'nova', '1.0', {'size': 1}),
     exception.UnsupportedObject, 'from namespace nova'),
    (primitives.Primitive('Frobnicator', 'scheduler_worker', '1.0', {}),
     exception.UnsupportedObject, 'Cannot accept object Frobnicator 1.0')])
def test_no_volume_id_to_record_is_poison_left_unrecorded(
        creator, volume, refusal, expected):
    create, _, db = creator
    result = _one(create, volume, 'msg-1')
    assert isinstance(result, refusal)
    assert expected in str(result)
    assert db.rows('SELECT count(*) FROM volumes') == [(0,)]
    # NOTE: nothing staged, so nothing can be published.
    assert db.rows('SELECT count(*) FROM scheduler_worker_outbox') == [(0,)]


def test_volume_of_an_unknown_major_is_recorded_in_error_by_name(creator):
    create, capture, db = creator
    volume_id = str(uuid.uuid4())
    result = _one(create, primitives.Primitive(
        'Volume', 'cinder', '2.0', {'id': volume_id, 'size': 1}))
    assert 'Volume 2.0 from namespace cinder' in str(result.cause)
    assert db.rows('SELECT status FROM volumes WHERE id = :id',
                   id=volume_id) == [('error',)]
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['volume_id'] == volume_id


def test_refused_context_is_recorded_with_the_volume_fields(creator):
    create, capture, db = creator
    volume_id = str(uuid.uuid4())
    refusal = exception.InvalidContext(reason="is_admin must be true or "
                                       "false, not 'false'")
    [result] = create.create([volumes.Request(
        context.RequestContext.anonymous({'request_id': 'req-bad'}),
        {'id': volume_id, 'size': 1, 'display_name': 'bad-context'},
        refusal=refusal)])
    assert result.cause is refusal
    assert db.rows('SELECT status, display_name, user_id FROM volumes') == [
        ('error', 'bad-context', None)]
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert "is_admin must be true or false" in note['payload']['reason']
    assert note['context']['is_admin'] is False
    assert note['context']['request_id'] == 'req-bad'


def test_owner_falls_back_to_request_spec_then_context(creator):
    create, _, db = creator
    spec = {'volume_properties': {'user_id': 'spec-user'}}
    assert _one(create, {'size': 1}, request_spec=spec) is None
    assert db.rows('SELECT user_id, project_id FROM volumes') == [
        ('spec-user', 'p')]


def test_request_spec_that_is_not_an_object_is_refused(creator):
    create, _, db = creator
    result = _one(create, {'size': 1}, request_spec='spec')
    assert 'request_spec must be an object, not str' in str(result.cause)
    assert db.rows('SELECT status FROM volumes') == [('error',)]


def test_volume_is_placed_and_its_size_claimed(creator):
    create, capture, db = creator
    assert _one(create, {'size': 3}) is None
    [row] = db.rows('SELECT host, availability_zone, scheduled_at FROM '
                    'volumes')
    assert (row.host, row.availability_zone) == ('unit@lvm#pool', 'nova')
    assert row.scheduled_at is not None
    [note] = capture.wait_for(notifications.CREATE_END, 1)
    assert note['payload']['host'] == 'unit@lvm#pool'
    assert note['payload']['status'] == 'creating'
    assert note['payload']['scheduled_at'] is not None
    assert _allocated(db) == {'unit@lvm#pool': 3}


def test_full_pool_refuses_with_a_reason_and_claims_nothing(creator):
    create, capture, db = creator
    assert _one(create, {'size': 10}) is None
    refused = _one(create, {'size': 5, 'display_name': 'too-big'})
    assert str(refused.cause) == (
        'No valid backend was found. No backend has 5 GiB of free capacity '
        'left (the most is 2 GiB, on unit@lvm#pool)')
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['reason'] == notifications.exception_reason(
        refused.cause)
    assert db.rows("SELECT status, host, size FROM volumes WHERE "
                   "display_name = 'too-big'") == [('error', None, 5)]
    assert _allocated(db) == {'unit@lvm#pool': 10}


def test_named_pool_is_checked_and_claimed(creator):
    create, _, db = creator
    assert _one(create, {'size': 2, 'host': 'unit@lvm'}) is None
    refused = _one(create, {'size': 1, 'host': 'other@lvm#pool'})
    assert 'other@lvm#pool is not known' in str(refused.cause)
    assert db.rows("SELECT host FROM volumes WHERE status = 'creating'") == [
        ('unit@lvm#pool',)]
    assert _allocated(db) == {'unit@lvm#pool': 2}


def test_claim_lost_to_another_worker_is_placed_again_on_fresh_pools(
        creator):
    create, capture, db = creator
    fixtures.static_backend('second@lvm#pool', total_gb=20)
    # NOTE: the batch plans both volumes on second@ (more free room) from
    # the pools it read; the competitor then takes 15 of second@'s 20 GiB.
    competitor = fixtures.CompetingClaim(create.scheduler,
                                         'second@lvm#pool', 15)
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    results = create.create([_request({'id': i, 'size': 4}) for i in ids])
    assert competitor.done
    assert results == [None, None]
    placed = dict(db.rows('SELECT id, host FROM volumes WHERE id IN '
                          '(:a, :b)', a=ids[0], b=ids[1]))
    # NOTE: placed again from fresh states, 5 GiB left on second@ and 12
    # on unit@: both go to the next candidate, nothing is oversold.
    assert placed == dict.fromkeys(ids, 'unit@lvm#pool')
    assert _allocated(db) == {'second@lvm#pool': 15, 'unit@lvm#pool': 8}
    capture.wait_for(notifications.CREATE_END, 2)


def test_claim_lost_with_no_room_left_anywhere_is_no_valid_backend(creator):
    create, capture, db = creator
    fixtures.CompetingClaim(create.scheduler, 'unit@lvm#pool', 10)
    refused = _one(create, {'size': 4, 'display_name': 'late'})
    assert 'No backend has 4 GiB of free capacity left (the most is 2 GiB' \
        in str(refused.cause)
    assert db.rows("SELECT status FROM volumes WHERE display_name = "
                   "'late'") == [('error',)]
    assert _allocated(db) == {'unit@lvm#pool': 10}
    capture.wait_for(notifications.CREATE_ERROR, 1)


def test_row_the_database_refuses_does_not_poison_its_batch(creator):
    """A trigger stands for a database that refuses one row."""
    create, capture, db = creator
    with db.engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TRIGGER refuse BEFORE INSERT ON volumes "
            "WHEN NEW.display_name = 'refused-by-db' "
            "BEGIN SELECT RAISE(ABORT, 'no such name here'); END"))
    ids = [str(uuid.uuid4()) for _ in range(3)]
    results = create.create([
        _request({'id': ids[0], 'size': 1}),
        _request({'id': ids[1], 'size': 1, 'display_name': 'refused-by-db'}),
        _request({'id': ids[2], 'size': 1})])
    assert results[0] is None and results[2] is None
    assert 'the database refused it' in str(results[1].cause)
    rows = dict(db.rows('SELECT id, status FROM volumes'))
    assert rows == {ids[0]: 'creating', ids[1]: 'error',
                    ids[2]: 'creating'}
    # NOTE: recorded with what the database takes: the id and status.
    assert db.rows('SELECT display_name, size FROM volumes WHERE id = :id',
                   id=ids[1]) == [(None, None)]
    capture.wait_for(notifications.CREATE_END, 2)
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['volume_id'] == ids[1]


def test_temporary_database_failure_fails_the_whole_batch(tmp_path):
    """Another writer holds SQLite's exclusive lock: nothing is stored."""
    locked = fixtures.Database('sqlite', tmp_path,
                               connection_parameters='timeout=0.1')
    holder = None
    try:
        with fixtures.volume_creator('unit@lvm#pool', total_gb=12,
                                     max_size=10) as (create, _):
            holder = locked.engine.raw_connection()
            holder.driver_connection.execute('BEGIN EXCLUSIVE')
            with pytest.raises(db_exc.DBDeadlock) as raised:
                create.create([_request({'size': 1}),
                               _request({'size': 0})])
            assert db.is_temporary(raised.value)
            holder.rollback()
            assert locked.rows('SELECT count(*) FROM volumes') == [(0,)]
            assert locked.rows(
                'SELECT count(*) FROM scheduler_worker_outbox') == [(0,)]
    finally:
        if holder is not None:
            holder.close()
        locked.close()


# The hand-off to the volume service, and rescheduling


@pytest.fixture
def hand_off(sqlite_db):
    """A creator handing volumes off (standalone), two pools, a volume
    service listening on each backend."""
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_rpc_transport(conf)
    notes = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(notes)
    outbox = notifications.Outbox(conf, notes, 'unit',
                                  rpc_transport=transport)
    services = {}
    for backend in ('unit@lab', 'unit@other'):
        fixtures.static_backend(backend + '#pool', total_gb=100, conf=conf,
                                extra={'volume_backend_name': 'lab'})
        services[backend] = fixtures.VolumeServiceCapture(
            transport, 'cinder-volume.' + backend, 'unit')
    creator = volumes.VolumeCreator(
        outbox, max_size=10, scheduler=driver.FilterScheduler(conf),
        mode=volumes.Mode(hand_off=True, max_attempts=3))
    yield creator, services, capture, sqlite_db
    for service in services.values():
        service.stop()
    capture.stop()
    transport.cleanup()
    notes.cleanup()


def _cinder_cast():
    """cinder-api's create_volume cast in the lab, decoded as we decode it."""
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)),
                           'wire', 'cinder29', 'create_volume.json')) as f:
        message = json.load(f)['messages'][0]['message']
    ctxt = context.RequestContext.from_dict(
        {k[len('_context_'):]: v for k, v in message.items()
         if k.startswith('_context_')})
    args = message['args']
    return ctxt, primitives.Primitive.of(args['volume']), \
        primitives.Primitive.of(args['request_spec'])


def _hand_off_request(filter_properties=None):
    ctxt, volume, spec = _cinder_cast()
    return volumes.Request(ctxt, volume, spec,
                           filter_properties=filter_properties)


def test_a_placed_cinder_volume_is_cast_to_its_volume_service(hand_off):
    create, services, capture, db = hand_off
    ctxt, volume, spec = _cinder_cast()
    assert create.create([_hand_off_request({})]) == [None]
    [[host]] = db.rows('SELECT host FROM volumes')
    backend = host.partition('#')[0]
    [cast] = services[backend].wait_for(1)
    assert cast['method'] == 'create_volume'
    args = cast['args']
    assert args['allow_reschedule'] is True
    sent = args['volume']['versioned_object.data']
    assert sent['host'] == host and sent['id'] == volume.data['id']
    assert {k: v for k, v in sent.items() if k not in (
        'host', 'scheduled_at', 'cluster_name', 'availability_zone')} == {
            k: v for k, v in volume.data.items() if k not in (
                'host', 'scheduled_at', 'cluster_name', 'availability_zone')}
    assert args['request_spec']['versioned_object.data']['volume'] == \
        args['volume']
    assert args['filter_properties']['retry'] == {
        'num_attempts': 1, 'backends': [host], 'hosts': [host]}
    # NOTE: the caller's context goes on whole, its token included.
    assert cast['context']['auth_token'] == ctxt.auth_token
    assert cast['context']['request_id'] == ctxt.request_id
    capture.wait_for(notifications.CREATE_END, 1)
    assert db.rows('SELECT count(*) FROM scheduler_worker_outbox') == [(0,)]


def test_a_volume_sent_back_goes_to_a_backend_not_tried(hand_off):
    create, services, capture, db = hand_off
    tried = 'unit@lab#pool'
    retry = {'num_attempts': 1, 'backends': [tried], 'hosts': [tried],
             'exc': ['Traceback ...']}
    assert create.create([_hand_off_request({'retry': retry})]) == [None]
    [cast] = services['unit@other'].wait_for(1)
    assert cast['args']['filter_properties']['retry'] == {
        'num_attempts': 2, 'backends': [tried, 'unit@other#pool'],
        'hosts': [tried, 'unit@other#pool']}
    assert services['unit@lab'].casts == []


def test_every_backend_tried_ends_in_error(hand_off):
    create, services, capture, db = hand_off
    tried = ['unit@lab#pool', 'unit@other#pool']
    [result] = create.create([_hand_off_request(
        {'retry': {'num_attempts': 2, 'backends': tried, 'hosts': tried}})])
    assert isinstance(result.cause, exception.NoValidBackend)
    assert db.rows('SELECT status FROM volumes') == [('error',)]


def test_past_max_attempts_the_volume_ends_in_error_with_cinders_reason(
        hand_off):
    create, services, capture, db = hand_off
    ctxt, volume, spec = _cinder_cast()
    tried = ['unit@lab#pool'] * 3
    [result] = create.create([_hand_off_request(
        {'retry': {'num_attempts': 3, 'backends': tried, 'hosts': tried}})])
    assert isinstance(result.cause, exception.NoValidBackend)
    assert db.rows('SELECT status, host FROM volumes') == [('error', None)]
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['reason'] == (
        "NoValidBackend('No valid backend was found. Exceeded max "
        "scheduling attempts 3 for resource %s')" % volume.data['id'])
    assert services['unit@lab'].casts == services['unit@other'].casts == []


@pytest.mark.parametrize('filter_properties', [
    'retry', {'retry': []}, {'retry': {'num_attempts': '1'}},
    {'retry': {'num_attempts': True}},
    {'retry': {'num_attempts': 1, 'backends': 'unit@lab#pool'}},
    {'retry': {'num_attempts': 1, 'backends': [7]}}])
def test_unreadable_retry_is_refused_and_recorded(hand_off, filter_properties):
    create, services, capture, db = hand_off
    [result] = create.create([_hand_off_request(filter_properties)])
    assert isinstance(result.cause, exception.Invalid)
    assert db.rows('SELECT status FROM volumes') == [('error',)]



@pytest.fixture
def cached(creator, monkeypatch):
    """The creator with a pools cache outliving the test (no clock in it)
    and the list of its pools reads."""
    create, capture, db_ = creator
    reads = []
    read = db.pool_get_all

    def counted(context):
        reads.append(1)
        return read(context)
    monkeypatch.setattr(db, 'pool_get_all', counted)
    create.scheduler.cache_seconds = 3600
    return create, capture, db_, reads


def test_batches_within_the_cache_time_read_the_pools_once_and_spread(
        cached):
    create, capture, db_, reads = cached
    fixtures.static_backend('second@lvm#pool', total_gb=12)
    first = _one(create, {'size': 4, 'display_name': 'first'})
    second = _one(create, {'size': 4, 'display_name': 'second'})
    assert (first, second) == (None, None)
    assert len(reads) == 1
    # NOTE: the second batch counts what the first claimed, as a fresh
    # read would: the other pool has more room left.
    hosts = dict(db_.rows('SELECT display_name, host FROM volumes'))
    assert hosts['first'] != hosts['second']
    assert sorted(_allocated(db_).values()) == [4, 4]
    capture.wait_for(notifications.CREATE_END, 2)


def test_forgotten_or_uncached_pools_are_read_for_each_batch(cached):
    create, capture, _, reads = cached
    _one(create, {'size': 1})
    # NOTE: what a capability report received does (manager).
    create.scheduler.forget_pools()
    _one(create, {'size': 1})
    create.scheduler.cache_seconds = 0
    _one(create, {'size': 1})
    _one(create, {'size': 1})
    assert len(reads) == 4
    capture.wait_for(notifications.CREATE_END, 4)


def test_a_report_received_makes_the_next_placing_read_the_pools(cached):
    create, capture, db_, reads = cached
    _one(create, {'size': 1})
    registry = backends.BackendRegistry(fixtures.make_conf())
    sw_manager.SchedulerManager(create, registry).update_service_capabilities(
        context.get_admin_context(), service_name='volume', host='third@lvm',
        capabilities=fixtures.lvm_capabilities(fixtures.lvm_pool('pool', 50)))
    _one(create, {'size': 1, 'display_name': 'after-the-report'})
    assert len(reads) == 2
    assert db_.rows("SELECT host FROM volumes WHERE display_name = "
                    "'after-the-report'") == [('third@lvm#pool',)]
    capture.wait_for(notifications.CREATE_END, 2)
