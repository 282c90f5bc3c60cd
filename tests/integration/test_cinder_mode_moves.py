"""retype and migrations in Cinder mode, on Cinder 29's real schema.

cinder-api's casts as captured in the lab (tests/wire/cinder29/), their
ids replaced by rows of this test's Cinder database; the pools are those
the lab's b1 and b2 reported (b1 has ``lab_reschedule_pair`` True, b2
False). The volume services are RPC servers listening where Cinder's
listen; the onward casts are compared with those Cinder's own scheduler
sent in the same captures.
"""

import copy

import pytest

from tests import fixtures
from tests.integration import test_cinder_mode as cinder_mode

_context = cinder_mode._context
_data = cinder_mode._data


class MovesLab(cinder_mode.Lab):
    VOLUME_METHODS = ('retype', 'migrate_volume')
    VOLUME_VERSION = '3.5'


@pytest.fixture
def lab(cinder_db):
    running = MovesLab(cinder_db)
    try:
        running.report()
        fixtures.wait_until(lambda: len(running.call('get_pools')) == 2,
                            what='both pools reported')
        yield running
    finally:
        running.stop()


def _onward(operation: str, method: str) -> dict:
    return next(m['message'] for m in cinder_mode._wire(operation)
                if m['message'].get('method') == method and
                m['routing_key'].startswith('cinder-volume.'))


def _retype(lab, operation: str, **volume) -> tuple[dict, dict, str]:
    """cinder-api's retype cast for a new volume on lab@b2#lab."""
    values = dict(host='lab@b2#lab', status='retyping',
                  previous_status='available')
    values.update(volume)
    volume_id = lab.db.add_volume(size=1, **values)
    message = copy.deepcopy(cinder_mode._to_scheduler(operation))
    args = message['args']
    _data(args['volume']).update(id=volume_id, **values)
    args['request_spec']['volume_id'] = volume_id
    args['request_spec']['volume_properties'].update(id=volume_id, **values)
    return _context(message), args, volume_id


def _volume(lab, volume_id: str) -> dict:
    return lab.db.row('SELECT status, previous_status, migration_status, '
                      'host FROM volumes WHERE id = :id', id=volume_id)


def test_a_retype_the_current_pool_fits_stays_there(lab):
    ctxt, args, volume_id = _retype(lab, 'retype_stay')
    lab.cast(ctxt, 'retype', **args)
    [cast] = lab.volume['b2'].wait_for(1)
    expected = _onward('retype_stay', 'retype')['args']
    assert cast['method'] == 'retype'
    assert cast['args']['host'] == expected['host']
    assert (cast['args']['new_type_id'], cast['args']['migration_policy'],
            cast['args']['reservations'],
            cast['args']['old_reservations']) == (
        expected['new_type_id'], 'never', expected['reservations'],
        expected['old_reservations'])
    assert _data(cast['args']['volume'])['id'] == volume_id
    assert cast['context']['auth_token'] == ctxt['auth_token']
    # NOTE: the volume service finishes the retype; the scheduler leaves
    # the volume as cinder-api put it.
    assert _volume(lab, volume_id)['status'] == 'retyping'
    assert lab.volume['b1'].casts == []


def test_a_retype_on_demand_goes_to_the_pool_the_new_type_fits(lab):
    ctxt, args, volume_id = _retype(lab, 'retype_migrate')
    lab.cast(ctxt, 'retype', **args)
    [cast] = lab.volume['b2'].wait_for(1)
    expected = _onward('retype_migrate', 'retype')['args']
    assert cast['args']['host'] == expected['host']
    assert cast['args']['host']['host'] == 'lab@b1#lab'
    assert cast['args']['migration_policy'] == 'on-demand'
    assert lab.volume['b1'].casts == []


def test_a_redelivered_retype_is_cast_once(lab):
    ctxt, args, _ = _retype(lab, 'retype_stay')
    lab.cast(ctxt, 'retype', **args)
    lab.cast(ctxt, 'retype', **args)
    lab.volume['b2'].wait_for(1)
    fixtures.wait_until(lambda: lab.db.rows(
        "SELECT count(*) FROM scheduler_worker_handled_casts WHERE key "
        "LIKE 'retype:%'")[0][0] == 1, what='one handled cast')
    lab.call('get_pools')
    assert len(lab.volume['b2'].casts) == 1


def test_a_retype_no_pool_takes_is_undone_as_cinder_undoes_it(lab):
    ctxt, args, volume_id = _retype(lab, 'retype_migrate')
    args['request_spec']['migration_policy'] = 'never'
    project = ctxt['project_id']
    new = [cinder_mode._reservation(lab, project, 1) for _ in range(2)]
    old = [cinder_mode._reservation(lab, project, -1) for _ in range(2)]
    args['request_spec'].update(quota_reservations=new, old_reservations=old)
    lab.cast(ctxt, 'retype', **args)
    [note] = lab.notifications.wait_for('scheduler.retype', 1)
    assert note['priority'] == 'ERROR'
    payload = note['payload']
    assert (payload['volume_id'], payload['method'], payload['state']) == (
        volume_id, 'retype', {'status': 'available'})
    assert payload['reason'].startswith(
        "NoValidBackend(\"No valid backend was found. Current backend not "
        "valid for volume %s with type {" % volume_id)
    assert payload['request_spec']['operation'] == 'retype_volume'
    assert _volume(lab, volume_id) == {
        'status': 'available', 'previous_status': 'available',
        'migration_status': None, 'host': 'lab@b2#lab'}
    # NOTE: as Cinder: the new type's reservations rolled back, the old
    # type's left to expire.
    deleted = dict(lab.db.rows('SELECT uuid, deleted FROM reservations'))
    assert [deleted[r] for r in new] == [True, True]
    assert [deleted[r] for r in old] == [False, False]
    assert [r[0] for r in lab.db.rows(
        'SELECT reserved FROM quota_usages ORDER BY id')] == [0, 0, -1, -1]
    assert lab.db.rows('SELECT * FROM messages') == []
    assert all(c.casts == [] for c in lab.volume.values())


def test_a_retype_without_a_new_type_is_undone(lab):
    ctxt, args, volume_id = _retype(lab, 'retype_stay')
    args['request_spec']['volume_type'] = None
    lab.cast(ctxt, 'retype', **args)
    [note] = lab.notifications.wait_for('scheduler.retype', 1)
    assert note['payload']['reason'] == (
        "ParameterNotFound('Could not find parameter volume_type.')")
    assert _volume(lab, volume_id)['status'] == 'available'


def _migrate(lab, destination: str, **volume) -> tuple[dict, dict, str]:
    """cinder-api's migrate_volume cast for a volume on lab@b2#lab."""
    values = dict(host='lab@b2#lab', status='available',
                  previous_status='available', migration_status='starting')
    values.update(volume)
    volume_id = lab.db.add_volume(size=1, **values)
    message = copy.deepcopy(cinder_mode._to_scheduler('migrate_volume'))
    args = message['args']
    _data(args['volume']).update(id=volume_id, **values)
    args['request_spec']['volume_id'] = volume_id
    args['request_spec']['volume_properties'].update(id=volume_id, **values)
    args['backend'] = destination
    return _context(message), args, volume_id


def test_a_migration_is_cast_to_the_source_service(lab):
    ctxt, args, volume_id = _migrate(lab, 'lab@b1#lab')
    lab.cast(ctxt, 'migrate_volume', version='3.3', **args)
    [cast] = lab.volume['b2'].wait_for(1)
    expected = _onward('migrate_volume', 'migrate_volume')['args']
    assert cast['method'] == 'migrate_volume'
    assert cast['args']['host'] == expected['host']
    assert cast['args']['force_host_copy'] is False
    assert _data(cast['args']['volume'])['id'] == volume_id
    assert _volume(lab, volume_id)['migration_status'] == 'starting'
    assert lab.volume['b1'].casts == []


def test_a_migration_from_a_cinder_api_below_3_3_is_cast_alike(lab):
    ctxt, args, _ = _migrate(lab, 'lab@b1')
    args['host'] = args.pop('backend')
    args['force_host_copy'] = args.pop('force_copy')
    lab.cast(ctxt, 'migrate_volume_to_host', **args)
    [cast] = lab.volume['b2'].wait_for(1)
    assert cast['args']['host'] == _onward(
        'migrate_volume', 'migrate_volume')['args']['host']


def test_a_migration_to_a_backend_that_does_not_pass_fails(lab):
    ctxt, args, volume_id = _migrate(lab, 'lab@b3#lab')
    lab.cast(ctxt, 'migrate_volume', version='3.3', **args)
    [note] = lab.notifications.wait_for('scheduler.migrate_volume_to_host',
                                        1)
    assert note['payload']['state'] == {'migration_status': 'error'}
    assert note['payload']['reason'] == (
        "NoValidBackend('Cannot place volume %s on lab@b3#lab.')"
        % volume_id)
    assert _volume(lab, volume_id) == {
        'status': 'available', 'previous_status': 'available',
        'migration_status': 'error', 'host': 'lab@b2#lab'}
    assert all(c.casts == [] for c in lab.volume.values())


def test_a_locked_migration_that_fails_gives_the_status_back(lab):
    ctxt, args, volume_id = _migrate(lab, 'lab@b3#lab',
                                     status='maintenance')
    lab.cast(ctxt, 'migrate_volume', version='3.3', **args)
    [note] = lab.notifications.wait_for('scheduler.migrate_volume_to_host',
                                        1)
    assert note['payload']['state'] == {'migration_status': 'error',
                                        'status': 'available'}
    assert _volume(lab, volume_id)['status'] == 'available'
