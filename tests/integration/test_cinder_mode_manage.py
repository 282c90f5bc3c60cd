"""manage_existing, manage_existing_snapshot, create_group in Cinder mode,
on Cinder 29's real schema: the casts cinder-api sent in the lab
(tests/wire/cinder29/), ids replaced by this test's rows."""

import copy
import datetime
import uuid

import pytest

from tests import fixtures
from tests.integration import test_cinder_mode as base

METHODS = ('manage_existing', 'manage_existing_snapshot', 'create_group')
_data = base._data


@pytest.fixture
def lab(cinder_db):
    running = base.Lab(cinder_db)
    try:
        for capture in running.volume.values():
            capture.stop()
        running.volume = {backend: fixtures.VolumeServiceCapture(
            running.transport, 'cinder-volume.lab@' + backend, 'lab',
            methods=METHODS) for backend in ('b1', 'b2')}
        running.report()
        fixtures.wait_until(lambda: len(running.call('get_pools')) == 2,
                            what='both pools reported')
        yield running
    finally:
        running.stop()


def _manage(lab, host: str = 'lab@b2') -> tuple[dict, str]:
    volume_id = lab.db.add_volume(size=0, status='managing', host=host)
    message = copy.deepcopy(base._to_scheduler('manage_existing'))
    args = message['args']
    _data(args['volume']).update(id=volume_id, host=host)
    args['request_spec']['volume_id'] = volume_id
    args['request_spec']['volume_properties']['host'] = host
    return message, volume_id


def test_a_volume_to_manage_gets_its_pool_and_goes_to_its_service(lab):
    message, volume_id = _manage(lab)
    lab.cast(base._context(message), 'manage_existing', **message['args'])
    [cast] = lab.volume['b2'].wait_for(1)
    assert cast['method'] == 'manage_existing'
    assert cast['args']['ref'] == {'source-name': 'capture-managed'}
    assert _data(cast['args']['volume'])['host'] == 'lab@b2#lab'
    row = lab.db.row('SELECT host, status FROM volumes WHERE id = :id',
                     id=volume_id)
    assert row == {'host': 'lab@b2#lab', 'status': 'managing'}


def test_a_redelivered_manage_is_passed_on_once(lab):
    message, volume_id = _manage(lab)
    for _ in range(2):
        lab.cast(base._context(message), 'manage_existing',
                 **message['args'])
    lab.volume['b2'].wait_for(1)
    # NOTE: the second cast is settled once its key is found handled.
    fixtures.wait_until(lambda: lab.db.rows(
        "SELECT count(*) FROM scheduler_worker_handled_casts WHERE key = "
        ":key", key='manage_existing:' + volume_id)[0][0] == 1,
        what='the handled cast')
    lab.call('get_pools')
    assert len(lab.volume['b2'].casts) == 1


def test_a_volume_on_an_unknown_backend_ends_in_error_managing(lab):
    message, volume_id = _manage(lab, host='lab@b9')
    ctxt = base._context(message)
    lab.cast(ctxt, 'manage_existing', **message['args'])
    [note] = lab.notifications.wait_for('scheduler.manage_existing', 1)
    assert note['priority'] == 'ERROR'
    payload = note['payload']
    assert (payload['volume_id'], payload['state'], payload['method']) == (
        volume_id, {'status': 'error'}, 'manage_existing')
    assert payload['reason'] == (
        "NoValidBackend('Cannot place volume %s on lab@b9.')" % volume_id)
    assert payload['request_spec']['operation'] == 'manage_existing'
    assert lab.db.row('SELECT status FROM volumes WHERE id = :id',
                      id=volume_id)['status'] == 'error_managing'
    assert lab.db.rows('SELECT count(*) FROM messages')[0][0] == 0


def _manage_snapshot(lab, size: int = 2) -> tuple[dict, str]:
    volume_id = lab.db.add_volume(size=2, host='lab@b1#lab',
                                  status='available')
    snapshot_id = str(uuid.uuid4())
    lab.db.add('snapshots', id=snapshot_id, volume_id=volume_id,
               volume_type_id=lab.db.volume_type_id, status='creating',
               volume_size=2, use_quota=True, project_id='project')
    message = copy.deepcopy(base._to_scheduler('manage_existing_snapshot'))
    args = message['args']
    _data(args['snapshot']).update(id=snapshot_id, volume_id=volume_id)
    _data(args['volume']).update(id=volume_id, host='lab@b1#lab')
    args['request_spec'].update(
        snapshot_id=snapshot_id, volume_properties={'size': size},
        resource_properties={'size': size})
    return message, snapshot_id


def test_a_snapshot_to_manage_goes_to_its_volumes_service(lab):
    message, snapshot_id = _manage_snapshot(lab)
    lab.cast(base._context(message), 'manage_existing_snapshot',
             **message['args'])
    [cast] = lab.volume['b1'].wait_for(1)
    assert cast['method'] == 'manage_existing_snapshot'
    assert set(cast['args']) == {'snapshot', 'ref'}
    assert _data(cast['args']['snapshot'])['id'] == snapshot_id
    assert lab.db.row('SELECT status FROM snapshots WHERE id = :id',
                      id=snapshot_id)['status'] == 'creating'
    # NOTE: as Cinder: no workers row for a snapshot being managed.
    assert lab.db.rows('SELECT count(*) FROM workers WHERE resource_id = '
                       ':id', id=snapshot_id)[0][0] == 0


def test_a_snapshot_the_backend_cannot_hold_ends_in_error(lab):
    message, snapshot_id = _manage_snapshot(lab, size=5000)
    lab.cast(base._context(message), 'manage_existing_snapshot',
             **message['args'])
    [note] = lab.notifications.wait_for('scheduler.manage_existing_snapshot',
                                        1)
    assert (note['payload']['snapshot_id'], note['payload']['state']) == (
        snapshot_id, 'error')
    assert lab.db.row('SELECT status FROM snapshots WHERE id = :id',
                      id=snapshot_id)['status'] == 'error'
    assert lab.volume['b1'].casts == []


def _group(lab, extra_specs: list[dict]) -> tuple[dict, str]:
    group_id = str(uuid.uuid4())
    lab.db.add('groups', id=group_id, project_id='project', status='creating',
               availability_zone='nova',
               group_type_id=str(uuid.uuid4()), replication_status='disabled')
    message = copy.deepcopy(base._to_scheduler('create_group'))
    args = message['args']
    _data(args['group']).update(id=group_id)
    args['group_spec']['group_id'] = group_id
    for spec, extra in zip(args['request_spec_list'], extra_specs,
                           strict=True):
        spec['group_id'] = group_id
        spec['volume_type']['extra_specs'] = extra
    return message, group_id


def test_a_group_goes_to_a_backend_both_volume_types_fit(lab):
    # NOTE: the lab's b1 reports lab_reschedule_pair True, b2 False.
    message, group_id = _group(lab, [{}, {
        'lab_reschedule_pair': '<is> False'}])
    lab.cast(base._context(message), 'create_group', **message['args'])
    [cast] = lab.volume['b2'].wait_for(1)
    assert cast['method'] == 'create_group'
    group = _data(cast['args']['group'])
    assert (group['id'], group['host']) == (group_id, 'lab@b2#lab')
    row = lab.db.row('SELECT host, cluster_name, status FROM groups '
                     'WHERE id = :id', id=group_id)
    assert row == {'host': 'lab@b2#lab', 'cluster_name': None,
                   'status': 'creating'}


def test_a_group_no_backend_fits_ends_in_error_silently(lab):
    message, group_id = _group(lab, [{}, {'volume_backend_name': 'nowhere'}])
    lab.cast(base._context(message), 'create_group', **message['args'])
    fixtures.wait_until(lambda: lab.db.row(
        'SELECT status FROM groups WHERE id = :id', id=group_id)[
            'status'] == 'error', what='the group in error')
    assert lab.notifications.of('scheduler.create_group') == []
    assert [c for c in lab.volume.values() if c.casts] == []


def _service(lab, host: str, binary: str, seen) -> int:
    lab.db.add('services', host=host, binary=binary, topic=binary,
               report_count=1, disabled=False, uuid=str(uuid.uuid4()),
               availability_zone='nova', frozen=False, updated_at=seen,
               created_at=seen)
    return lab.db.row('SELECT id FROM services WHERE host = :h AND '
                      '"binary" = :b', h=host, b=binary)['id']


def _cleanup_request(**values) -> tuple[dict, dict]:
    message = copy.deepcopy(base._wire('workers_cleanup')[0]['message'])
    request = message['args']['cleanup_request']
    # NOTE: cinder-api's until is the moment of the request.
    _data(request)['until'] = datetime.datetime.utcnow().strftime(
        '%Y-%m-%dT%H:%M:%SZ')
    _data(request).update(values)
    return base._context(message), request


def test_workers_cleanup_errors_what_a_dead_scheduler_was_placing(lab):
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    dead = _service(lab, 'dead-host', 'cinder-scheduler', old)
    _service(lab, 'dead-host@lvm', 'cinder-volume', old)
    volume_id = lab.db.add_volume(size=1)
    lab.db.execute('UPDATE workers SET service_id = :s, updated_at = :t '
                   'WHERE resource_id = :id', s=dead, t=old, id=volume_id)
    ctxt, request = _cleanup_request()
    reply = lab.client.prepare(version='3.4').call(
        ctxt, 'work_cleanup', cleanup_request=request)
    requested, unavailable = reply
    assert [(_data(s)['host'], _data(s)['binary']) for s in requested] == [
        ('dead-host', 'cinder-scheduler')]
    assert [(_data(s)['host'], _data(s)['binary']) for s in unavailable] \
        == [('dead-host@lvm', 'cinder-volume')]
    assert requested[0]['versioned_object.name'] == 'Service'
    # NOTE: the do_cleanup cast went to cinder-scheduler: this worker.
    fixtures.wait_until(lambda: lab.db.row(
        'SELECT status FROM volumes WHERE id = :id', id=volume_id)[
            'status'] == 'error', what='the volume in error')
    assert lab.db.rows('SELECT count(*) FROM workers WHERE resource_id = '
                       ':id', id=volume_id)[0][0] == 0


def test_workers_cleanup_leaves_a_live_schedulers_work_alone(lab):
    volume_id = lab.db.add_volume(size=1)
    ctxt, request = _cleanup_request()
    assert lab.client.prepare(version='3.4').call(
        ctxt, 'work_cleanup', cleanup_request=request) == [[], []]
    assert lab.db.row('SELECT status FROM volumes WHERE id = :id',
                      id=volume_id)['status'] == 'creating'


def test_workers_cleanup_naming_a_service_id_finds_nothing_as_cinder(lab):
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    dead = _service(lab, 'dead-host', 'cinder-scheduler', old)
    ctxt, request = _cleanup_request(service_id=dead, is_up=True)
    assert lab.client.prepare(version='3.4').call(
        ctxt, 'work_cleanup', cleanup_request=request) == [[], []]
