"""The Cinder backend of the DB API, on a real Cinder 29 schema.

Each test runs on PostgreSQL and on MariaDB.

The schema is the one ``cinder-manage db sync`` creates (tests/conftest.py
cinder_template); rows of Cinder's tables are inserted as Cinder's
services insert them (tests/fixtures.py CinderDatabase), or by Cinder's
own code run from its venv (the quota reservations).
"""

import datetime
import json
import os
import subprocess
import threading
import uuid

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker.db import api as db
from scheduler_worker.db.cinder import api as cinder_api
from scheduler_worker.db.sqlalchemy import models
from tests import fixtures

POOL = 'lab@b1#lab'


@pytest.fixture
def cinder_db(cinder_any_db):
    return cinder_any_db


def _ctx():
    return sw_context.get_admin_context()


def _outbox_row(topic: str = 'cinder-volume.lab@b1') -> dict:
    now = timeutils.utcnow()
    return {'id': str(uuid.uuid4()), 'kind': 'cast', 'exchange': 'openstack',
            'topic': topic, 'server': 'lab', 'body': '{}',
            'created_at': now, 'attempts': 0, 'next_attempt_at': now}


def _message(resource_uuid: str, resource_type: str = 'VOLUME',
             action_id: str = '001', detail_id: str = '003') -> dict:
    return {'project_id': 'project', 'request_id': 'req-%s' % resource_uuid,
            'resource_type': resource_type, 'resource_uuid': resource_uuid,
            'action_id': action_id, 'detail_id': detail_id}


def _pool(total_gb: float = 100, host: str = POOL, **kwargs) -> dict:
    """A pool registered as the worker registers a static one; its row."""
    backend = fixtures.static_backend(host, total_gb=total_gb, **kwargs)
    [pool] = [p for p in backend['pools'] if p['host'] == host]
    return pool


def _scheduler_service(cinder_db) -> dict:
    return db.service_get_or_create(_ctx(), 'sw-host', 'cinder-scheduler',
                                    'cinder-scheduler')


def _placed(volume_id: str, size: int, pool: dict, **values) -> tuple:
    volume = dict({'id': volume_id, 'cast_key': 'create_volume:%s:0'
                   % volume_id, 'host': pool['host'], 'cluster_name': None,
                   'scheduled_at': timeutils.utcnow(),
                   'availability_zone': 'nova', 'status': 'creating',
                   'size': size, 'display_name': 'ignored'}, **values)
    claim = {'pool_id': pool['id'], 'host': pool['host'], 'size': size,
             'thick': True}
    return volume, claim


def _volume(cinder_db, volume_id: str) -> dict:
    return cinder_db.row('SELECT * FROM volumes WHERE id = :id', id=volume_id)


def _worker(cinder_db, resource_id: str) -> list[dict]:
    return [dict(r._mapping) for r in cinder_db.rows(
        'SELECT * FROM workers WHERE resource_id = :id', id=resource_id)]


def test_the_facade_maps_backend_cinder_to_the_cinder_backend(cinder_db):
    conf = fixtures.make_conf(database__backend='cinder')
    assert db.is_cinder(conf)
    assert not db.is_cinder(fixtures.make_conf())
    # NOTE: a Cinder-only function: the standalone backend has none.
    assert db.messages_reap(_ctx()) == 0
    assert db._impl()._backend is cinder_api


def test_volume_update_writes_exactly_the_schedulers_columns(cinder_db):
    service = _scheduler_service(cinder_db)
    pool = _pool()
    volume_id = cinder_db.add_volume(size=3, display_name='mine')
    before = _volume(cinder_db, volume_id)
    volume, claim = _placed(volume_id, 3, pool, availability_zone='az-b')
    outbox = [_outbox_row()]
    db.volume_create_all(_ctx(), [volume], [claim], outbox,
                         service_id=service['id'])
    after = _volume(cinder_db, volume_id)
    changed = {k for k in after if after[k] != before[k]}
    # NOTE: what cinder-scheduler changed in the lab's capture (reference
    # §1.1, tests/wire/cinder29/db_facts.json): host, scheduled_at,
    # updated_at; and availability_zone when the service's zone differs.
    assert changed == {'host', 'scheduled_at', 'updated_at',
                       'availability_zone'}
    assert (after['host'], after['availability_zone'], after['status'],
            after['size'], after['display_name']) == (
                POOL, 'az-b', 'creating', 3, 'mine')
    [worker] = _worker(cinder_db, volume_id)
    assert (worker['resource_type'], worker['status'], worker['service_id'],
            worker['race_preventer']) == ('Volume', 'creating',
                                          service['id'], 1)
    assert cinder_db.rows('SELECT id FROM scheduler_worker_outbox') == [
        (outbox[0]['id'],)]
    handled = models.HandledCast.__table__
    with cinder_db.engine.connect() as connection:
        assert connection.execute(sa.select(handled.c.key)).all() == [
            ('create_volume:%s:0' % volume_id,)]


def test_a_redelivered_cast_stores_nothing(cinder_db):
    pool = _pool()
    volume_id = cinder_db.add_volume(size=1)
    volume, claim = _placed(volume_id, 1, pool)
    db.volume_create_all(_ctx(), [volume], [claim], [_outbox_row()])
    before = _volume(cinder_db, volume_id)
    second, claim = _placed(volume_id, 1, pool, host='lab@b2#lab')
    with pytest.raises(db_exc.DBDuplicateEntry):
        db.volume_create_all(_ctx(), [second], [claim], [_outbox_row()])
    assert _volume(cinder_db, volume_id) == before
    assert cinder_db.rows('SELECT count(*) FROM scheduler_worker_outbox') \
        == [(1,)]


def test_a_deleted_volume_is_not_found_and_nothing_is_stored(cinder_db):
    pool = _pool()
    live = cinder_db.add_volume(size=1)
    gone = cinder_db.add_volume(size=1, deleted=True,
                                deleted_at=timeutils.utcnow())
    volumes = [_placed(v, 1, pool)[0] for v in (live, gone)]
    with pytest.raises(exception.VolumeNotFound) as raised:
        db.volume_create_all(_ctx(), volumes, [], [_outbox_row()])
    assert raised.value.kwargs == {'volume_id': gone}
    assert _volume(cinder_db, live)['host'] is None
    assert cinder_db.rows('SELECT count(*) FROM scheduler_worker_outbox '
                          'UNION ALL SELECT count(*) FROM '
                          'scheduler_worker_handled_casts') == [(0,), (0,)]
    with pytest.raises(exception.VolumeNotFound):
        db.volume_create_all(_ctx(), [_placed(str(uuid.uuid4()), 1,
                                              pool)[0]], [], [])


def test_a_volume_in_error_loses_its_workers_row_and_gets_a_message(
        cinder_db):
    service = _scheduler_service(cinder_db)
    volume_id = cinder_db.add_volume(size=1)
    before = _volume(cinder_db, volume_id)
    db.volume_create_all(
        _ctx(), [{'id': volume_id, 'cast_key': 'create_volume:%s:0'
                  % volume_id, 'status': 'error'}], [], [_outbox_row()],
        messages=[_message(volume_id)], service_id=service['id'])
    after = _volume(cinder_db, volume_id)
    assert {k for k in after if after[k] != before[k]} == {
        'status', 'updated_at'}
    assert after['status'] == 'error'
    assert _worker(cinder_db, volume_id) == []
    message = cinder_db.row('SELECT * FROM messages')
    # NOTE: as Cinder's own scheduler wrote it in the lab
    # (tests/wire/cinder29/db_facts.json no_valid_backend_messages).
    assert {k: message[k] for k in (
        'project_id', 'request_id', 'resource_type', 'resource_uuid',
        'event_id', 'message_level', 'action_id', 'detail_id', 'deleted',
        'updated_at', 'deleted_at')} == {
            'project_id': 'project', 'request_id': 'req-%s' % volume_id,
            'resource_type': 'VOLUME', 'resource_uuid': volume_id,
            'event_id': 'VOLUME_VOLUME_001_003', 'message_level': 'ERROR',
            'action_id': '001', 'detail_id': '003', 'deleted': False,
            'updated_at': None, 'deleted_at': None}
    assert message['expires_at'] - message['created_at'] == \
        datetime.timedelta(days=30)
    uuid.UUID(message['id'])


def test_a_missing_workers_row_is_inserted_as_set_worker_does(cinder_db):
    service = _scheduler_service(cinder_db)
    pool = _pool()
    volume_id = cinder_db.add_volume(size=1)
    cinder_db.execute('DELETE FROM workers WHERE resource_id = :id',
                      id=volume_id)
    db.volume_create_all(_ctx(), [_placed(volume_id, 1, pool)[0]], [], [],
                         service_id=service['id'])
    [worker] = _worker(cinder_db, volume_id)
    assert (worker['status'], worker['service_id'], worker['race_preventer'],
            worker['deleted']) == ('creating', service['id'], 0, False)
    assert worker['created_at'] is not None


def test_services_row_as_cinder_scheduler_writes_it(cinder_db):
    first = db.service_get_or_create(_ctx(), 'sw-host', 'cinder-scheduler',
                                     'cinder-scheduler',
                                     availability_zone='nova')
    row = cinder_db.row('SELECT * FROM services WHERE id = :id',
                        id=first['id'])
    # NOTE: the row cinder-scheduler wrote in the lab
    # (tests/wire/cinder29/db_facts.json services), reference §3.1.
    assert {k: row[k] for k in (
        'host', 'binary', 'topic', 'report_count', 'disabled',
        'disabled_reason', 'availability_zone', 'cluster_name',
        'rpc_current_version', 'object_current_version',
        'replication_status', 'frozen', 'deleted', 'deleted_at',
        'modified_at', 'active_backend_id')} == {
            'host': 'sw-host', 'binary': 'cinder-scheduler',
            'topic': 'cinder-scheduler', 'report_count': 0,
            'disabled': False, 'disabled_reason': None,
            'availability_zone': 'nova', 'cluster_name': None,
            'rpc_current_version': '3.12', 'object_current_version': '1.39',
            'replication_status': 'not-capable', 'frozen': False,
            'deleted': False, 'deleted_at': None, 'modified_at': None,
            'active_backend_id': None}
    uuid.UUID(row['uuid'])
    assert row['created_at'] == row['updated_at']

    beat = db.service_heartbeat(_ctx(), first['id'])
    assert beat['report_count'] == 1
    # NOTE: Cinder's MariaDB schema keeps whole seconds.
    assert beat['updated_at'] >= row['updated_at']
    cinder_db.execute("UPDATE services SET rpc_current_version = '3.0', "
                      "object_current_version = '1.38' WHERE id = :id",
                      id=first['id'])
    again = db.service_get_or_create(_ctx(), 'sw-host', 'cinder-scheduler',
                                     'cinder-scheduler')
    # NOTE: reused at restart: id, uuid, report_count, created_at kept,
    # versions rewritten, updated_at refreshed.
    assert (again['id'], again['uuid'], again['report_count'],
            again['created_at']) == (first['id'], row['uuid'], 1,
                                     row['created_at'])
    assert (again['rpc_current_version'],
            again['object_current_version']) == ('3.12', '1.39')
    assert again['updated_at'] >= beat['updated_at']
    assert [r['binary'] for r in db.service_get_all(_ctx())] == [
        'cinder-scheduler']


def test_processes_starting_together_make_one_services_row(cinder_db):
    results, errors = [], []
    barrier = threading.Barrier(6)

    def start():
        try:
            barrier.wait(30)
            results.append(db.service_get_or_create(
                _ctx(), 'sw-host', 'cinder-scheduler', 'cinder-scheduler'))
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len({r['id'] for r in results}) == 1
    assert cinder_db.rows("SELECT count(*) FROM services") == [(1,)]


def test_a_heartbeat_of_a_removed_service_is_service_not_found(cinder_db):
    service = _scheduler_service(cinder_db)
    cinder_db.execute('UPDATE services SET deleted = true WHERE id = :id',
                      id=service['id'])
    with pytest.raises(exception.ServiceNotFound):
        db.service_heartbeat(_ctx(), service['id'])


def test_pool_allocation_is_derived_from_cinders_volumes(cinder_db):
    pool = _pool(total_gb=100)
    other = _pool(total_gb=100, host='lab@b2#lab')
    cinder_db.add_volume(size=5, host=POOL, status='available')
    cinder_db.add_volume(size=7, host=POOL, status='error')
    cinder_db.add_volume(size=11, host=POOL, status='available',
                         deleted=True)
    cinder_db.add_volume(size=13, host='lab@b1', status='available')
    allocated = {p['host']: p['allocated_gb']
                 for p in db.pool_get_all(_ctx())}
    assert allocated == {POOL: 12, other['host']: 0}
    [backend] = [b for b in db.backend_get_all(_ctx()) if b['host'] ==
                 'lab@b1']
    assert backend['pools'][0]['allocated_gb'] == 12
    assert db.backend_get(_ctx(), 'lab@b1')['pools'][0]['allocated_gb'] == 12
    # NOTE: the room of a deleted volume comes back by itself.
    cinder_db.execute('UPDATE volumes SET deleted = true WHERE size = 5')
    assert [p['allocated_gb'] for p in db.pool_get_all(_ctx())
            if p['id'] == pool['id']] == [7]


def test_a_claim_beyond_the_derived_room_fails_and_stores_nothing(
        cinder_db):
    pool = _pool(total_gb=10)
    cinder_db.add_volume(size=8, host=POOL, status='available')
    volume_id = cinder_db.add_volume(size=3)
    volume, claim = _placed(volume_id, 3, pool)
    with pytest.raises(exception.CapacityClaimFailed):
        db.volume_create_all(_ctx(), [volume], [claim], [_outbox_row()])
    assert _volume(cinder_db, volume_id)['host'] is None
    assert cinder_db.rows('SELECT count(*) FROM scheduler_worker_outbox '
                          'UNION ALL SELECT count(*) FROM '
                          'scheduler_worker_handled_casts') == [(0,), (0,)]
    volume, claim = _placed(volume_id, 2, pool)
    db.volume_create_all(_ctx(), [volume], [claim], [])
    assert _volume(cinder_db, volume_id)['host'] == POOL


def test_concurrent_writers_never_oversell_a_pool(cinder_db):
    """Eight threads, each its own connection, race for a 20 GiB pool."""
    pool = _pool(total_gb=20)
    volume_ids = [cinder_db.add_volume(size=3) for _ in range(16)]
    outcomes, errors = [], []
    barrier = threading.Barrier(8)

    def writer(mine):
        barrier.wait(30)
        for volume_id in mine:
            volume, claim = _placed(volume_id, 3, pool)
            try:
                db.volume_create_all(_ctx(), [volume], [claim], [])
                outcomes.append('placed')
            except exception.CapacityClaimFailed:
                outcomes.append('full')
            except Exception as exc:
                errors.append(exc)
    threads = [threading.Thread(target=writer, args=(volume_ids[i::8],))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sorted(outcomes) == ['full'] * 10 + ['placed'] * 6
    assert cinder_db.rows('SELECT count(*), sum(size) FROM volumes WHERE '
                          'host = :h', h=POOL) == [(6, 18)]


def _cinder_reserve(cinder_db, tmp_path, project_id: str, **deltas) -> list:
    """Reserve quota with Cinder's own QUOTAS.reserve, in Cinder's venv."""
    config, env = fixtures.cinder_config(cinder_db.url, tmp_path)
    script = (
        'import json, sys\n'
        'from oslo_config import cfg\n'
        'from cinder import context, objects, quota\n'
        'objects.register_all()\n'
        'cfg.CONF(["--config-file", sys.argv[1]], project="cinder")\n'
        'ctx = context.get_admin_context()\n'
        'deltas = json.loads(sys.argv[3])\n'
        'print(json.dumps(quota.QUOTAS.reserve(ctx, project_id=sys.argv[2],'
        ' **deltas)))\n')
    result = subprocess.run(
        [os.path.join(fixtures.cinder_venv(), 'bin', 'python'), '-c', script,
         config, project_id, json.dumps(deltas)], capture_output=True,
        text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _usages(cinder_db, project_id: str) -> dict:
    return {r.resource: (r.in_use, r.reserved) for r in cinder_db.rows(
        'SELECT resource, in_use, reserved FROM quota_usages WHERE '
        'project_id = :p AND NOT deleted', p=project_id)}


def test_extend_refusal_restores_status_and_rolls_reservations_back(
        cinder_db, tmp_path):
    volume_id = cinder_db.add_volume(size=2, status='extending',
                                     previous_status='available')
    reservations = _cinder_reserve(cinder_db, tmp_path, 'project',
                                   gigabytes=5)
    # NOTE: Cinder's reserve counted the project's 2 GiB in use first.
    assert _usages(cinder_db, 'project')['gigabytes'] == (2, 5)
    key = 'extend_volume:%s:7:req-1' % volume_id
    db.volume_extend_refused(_ctx(), volume_id, reservations, 'project',
                             [_message(volume_id, action_id='007')],
                             [_outbox_row('notifications.error')], key)
    volume = _volume(cinder_db, volume_id)
    assert (volume['status'], volume['previous_status'], volume['size']) \
        == ('available', None, 2)
    assert _usages(cinder_db, 'project')['gigabytes'] == (2, 0)
    rows = cinder_db.rows('SELECT deleted, deleted_at FROM reservations '
                          'WHERE uuid = :u', u=reservations[0])
    assert bool(rows[0].deleted) and rows[0].deleted_at is not None
    assert cinder_db.row('SELECT event_id FROM messages')['event_id'] == \
        'VOLUME_VOLUME_007_003'
    with pytest.raises(db_exc.DBDuplicateEntry):
        db.volume_extend_refused(_ctx(), volume_id, reservations, 'project',
                                 [], [], key)


def test_reservations_expire_rolls_back_only_expired_ones(cinder_db,
                                                          tmp_path):
    kept = _cinder_reserve(cinder_db, tmp_path, 'project', gigabytes=3)
    expired = _cinder_reserve(cinder_db, tmp_path, 'project', gigabytes=4)
    cinder_db.execute("UPDATE reservations SET expire = :t WHERE uuid = :u",
                      t=timeutils.utcnow() - datetime.timedelta(seconds=1),
                      u=expired[0])
    assert db.reservations_expire(_ctx()) == 1
    assert _usages(cinder_db, 'project')['gigabytes'] == (0, 3)
    assert [r.uuid for r in cinder_db.rows(
        'SELECT uuid FROM reservations WHERE NOT deleted')] == kept
    assert db.reservations_expire(_ctx()) == 0


def test_messages_reap_deletes_expired_messages(cinder_db):
    now = timeutils.utcnow()
    for message_id, expires in (('old', now - datetime.timedelta(
            seconds=1)), ('new', now + datetime.timedelta(days=1))):
        cinder_db.add('messages', id=message_id, project_id='p',
                      event_id='VOLUME_VOLUME_001_003',
                      message_level='ERROR', expires_at=expires)
    assert db.messages_reap(_ctx()) == 1
    assert cinder_db.rows('SELECT id FROM messages') == [('new',)]


def _snapshot(cinder_db, volume_id: str, **values) -> str:
    snapshot_id = str(uuid.uuid4())
    cinder_db.add('snapshots', **dict({
        'id': snapshot_id, 'volume_id': volume_id, 'status': 'creating',
        'volume_type_id': cinder_db.volume_type_id, 'project_id': 'project',
        'volume_size': 1, 'use_quota': True}, **values))
    return snapshot_id


def test_snapshot_hand_off_and_refusal(cinder_db):
    volume_id = cinder_db.add_volume(size=1, host=POOL, status='available')
    snapshot_id = _snapshot(cinder_db, volume_id)
    db.snapshot_hand_off(_ctx(), snapshot_id, [_outbox_row()],
                         'create_snapshot:%s' % snapshot_id)
    [worker] = _worker(cinder_db, snapshot_id)
    assert (worker['resource_type'], worker['status'], worker['service_id'],
            worker['race_preventer'], worker['deleted']) == (
                'Snapshot', 'creating', None, 0, False)
    with pytest.raises(db_exc.DBDuplicateEntry):
        db.snapshot_hand_off(_ctx(), snapshot_id, [],
                             'create_snapshot:%s' % snapshot_id)

    refused = _snapshot(cinder_db, volume_id)
    db.snapshot_refused(_ctx(), refused, [_outbox_row('notifications.error')],
                        'create_snapshot:%s' % refused)
    assert cinder_db.row('SELECT status FROM snapshots WHERE id = :id',
                         id=refused)['status'] == 'error'
    gone = _snapshot(cinder_db, volume_id, deleted=True)
    with pytest.raises(exception.NotFound):
        db.snapshot_hand_off(_ctx(), gone, [], 'create_snapshot:%s' % gone)
    assert _worker(cinder_db, gone) == []


def _backup(cinder_db, volume_id: str) -> str:
    backup_id = str(uuid.uuid4())
    cinder_db.add('backups', id=backup_id, volume_id=volume_id,
                  status='creating', project_id='project')
    return backup_id


def test_backup_hand_off_and_refusal(cinder_db):
    volume_id = cinder_db.add_volume(size=1, host=POOL, status='backing-up',
                                     previous_status='available')
    backup_id = _backup(cinder_db, volume_id)
    db.backup_hand_off(_ctx(), backup_id, 'lab',
                       [_outbox_row('cinder-backup')],
                       'create_backup:%s' % backup_id)
    assert cinder_db.row('SELECT host, status FROM backups WHERE id = :id',
                         id=backup_id) == {'host': 'lab', 'status': 'creating'}

    refused = _backup(cinder_db, volume_id)
    db.backup_refused(_ctx(), refused, volume_id,
                      'Service not found for creating backup.' + 'x' * 300,
                      [_message(refused, 'VOLUME_BACKUP', '013', '024')], [],
                      'create_backup:%s' % refused)
    backup = cinder_db.row('SELECT status, fail_reason FROM backups WHERE '
                           'id = :id', id=refused)
    assert backup['status'] == 'error'
    assert backup['fail_reason'].startswith('Service not found for creating '
                                            'backup.')
    assert len(backup['fail_reason']) == 255
    volume = _volume(cinder_db, volume_id)
    # NOTE: swapped, as Cinder's scheduler does (reference §1.4).
    assert (volume['status'], volume['previous_status']) == (
        'available', 'backing-up')
    assert cinder_db.row('SELECT event_id FROM messages')['event_id'] == \
        'VOLUME_VOLUME_BACKUP_013_024'


def test_cast_handled_records_the_key_and_the_outbox(cinder_db):
    row = _outbox_row()
    db.cast_handled(_ctx(), 'extend_volume:v:3:req', [row])
    assert cinder_db.rows('SELECT id FROM scheduler_worker_outbox') == [
        (row['id'],)]
    with pytest.raises(db_exc.DBDuplicateEntry):
        db.cast_handled(_ctx(), 'extend_volume:v:3:req', [_outbox_row()])
    assert cinder_db.rows('SELECT count(*) FROM scheduler_worker_outbox') \
        == [(1,)]


def test_volume_get_reads_cinders_row(cinder_db):
    volume_id = cinder_db.add_volume(size=4, display_name='v')
    cinder_db.add('volume_metadata', volume_id=volume_id, key='k',
                  value='x')
    volume = db.volume_get(_ctx(), volume_id)
    assert (volume['id'], volume['size'], volume['display_name'],
            volume['status'], volume['metadata']) == (
                volume_id, 4, 'v', 'creating', {'k': 'x'})
    with pytest.raises(exception.VolumeNotFound):
        db.volume_get(_ctx(), str(uuid.uuid4()))


def test_handled_casts_reap_forgets_old_keys(cinder_db):
    db.cast_handled(_ctx(), 'create_snapshot:old', [])
    cinder_db.execute("UPDATE scheduler_worker_handled_casts SET created_at "
                      "= :t", t=timeutils.utcnow() - datetime.timedelta(
                          days=2))
    db.cast_handled(_ctx(), 'create_snapshot:new', [])
    assert db.handled_casts_reap(_ctx(), timeutils.utcnow() -
                                 datetime.timedelta(days=1)) == 1
    # NOTE: forgotten, the old key may be recorded again.
    db.cast_handled(_ctx(), 'create_snapshot:old', [])
    with pytest.raises(db_exc.DBDuplicateEntry):
        db.cast_handled(_ctx(), 'create_snapshot:new', [])


def test_volume_listing_and_counts_read_cinders_volumes(cinder_db):
    placed = cinder_db.add_volume(size=2, host=POOL, status='available')
    cinder_db.add_volume(size=1, host=POOL, status='error')
    cinder_db.add_volume(size=1, host=POOL, status='available',
                         deleted=True)
    assert db.volume_count_by_host(_ctx(), [POOL, 'lab@b2#lab']) == {
        POOL: 1, 'lab@b2#lab': 0}
    assert [v['id'] for v in db.volume_get_all(
        _ctx(), {'status': 'available'})] == [placed]
    assert placed in db.volume_get_existing(_ctx(), [placed, 'nope'])
    with pytest.raises(exception.Invalid):
        db.volume_get_all(_ctx(), {'nonsense': 1})


def test_a_thin_claim_is_held_to_the_virtual_limit(cinder_db):
    pool = _pool(total_gb=10, thin=True, max_over_subscription_ratio='2.0')
    assert (pool['physical_limit_gb'], pool['virtual_limit_gb']) == (10, 20)
    cinder_db.add_volume(size=15, host=POOL, status='available')
    fits = cinder_db.add_volume(size=5)
    volume, claim = _placed(fits, 5, pool)
    db.volume_create_all(_ctx(), [volume], [dict(claim, thick=False)], [])
    over = cinder_db.add_volume(size=1)
    volume, claim = _placed(over, 1, pool)
    with pytest.raises(exception.CapacityClaimFailed):
        db.volume_create_all(_ctx(), [volume], [dict(claim, thick=False)],
                             [])


def test_a_rescheduled_volume_gives_its_room_back(cinder_db):
    pool = _pool(total_gb=10)
    volume_id = cinder_db.add_volume(size=10)
    volume, claim = _placed(volume_id, 10, pool)
    db.volume_create_all(_ctx(), [volume], [claim], [])
    # NOTE: cinder-volume sends a failed create back with host cleared
    # (reference §2.3); the next attempt has a key of its own.
    cinder_db.execute('UPDATE volumes SET host = NULL WHERE id = :id',
                      id=volume_id)
    volume, claim = _placed(volume_id, 10, pool,
                            cast_key='create_volume:%s:1' % volume_id)
    db.volume_create_all(_ctx(), [volume], [claim], [])
    assert [p['allocated_gb'] for p in db.pool_get_all(_ctx())] == [10]


def test_a_volume_type_is_found_by_id_then_by_name_live_only(cinder_db):
    gold, named_like_uuid, gone = (str(uuid.uuid4()) for _ in range(3))
    cinder_db.add('volume_types', id=gold, name='gold', is_public=True)
    cinder_db.add('volume_type_extra_specs', volume_type_id=gold,
                  key='volume_backend_name', value='lab')
    cinder_db.add('volume_type_extra_specs', volume_type_id=gold,
                  key='dropped', value='x', deleted=True)
    # NOTE: a name may be uuid-like; Cinder tries the id first, then it.
    uuid_name = str(uuid.uuid4())
    cinder_db.add('volume_types', id=named_like_uuid, name=uuid_name,
                  is_public=True)
    cinder_db.add('volume_types', id=gone, name='gone', is_public=True,
                  deleted=True)
    expected = {'id': gold, 'name': 'gold',
                'extra_specs': {'volume_backend_name': 'lab'}}
    assert db.volume_type_get_by_name_or_id(_ctx(), 'gold') == expected
    assert db.volume_type_get_by_name_or_id(_ctx(), gold) == expected
    assert db.volume_type_get_by_name_or_id(_ctx(), uuid_name) == {
        'id': named_like_uuid, 'name': uuid_name, 'extra_specs': {}}
    for missing in ('gone', gone, 'never', str(uuid.uuid4())):
        assert db.volume_type_get_by_name_or_id(_ctx(), missing) is None
