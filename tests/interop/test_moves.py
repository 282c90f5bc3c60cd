"""Retype and migration in a stock Cinder cloud, driven only by REST.

Run once per scheduler slot (conftest.SCHEDULERS): Cinder's own
cinder-scheduler, then the worker in Cinder mode; each test asserts the
end state Cinder 29 leaves, so both slots must leave the same. The lab's
b1 reports ``lab_reschedule_pair`` True, b2 False: a type asking for one
value matches one backend only.
"""

from tests.interop import rest


def _volume(lab, name: str) -> dict:
    return lab.client.wait_volume(lab.client.create_volume(1, name=name)[
        'id'])


def _backend(volume: dict) -> str:
    return volume['os-vol-host-attr:host'].split('@')[1].split('#')[0]


def _other(backend: str) -> str:
    return 'b2' if backend == 'b1' else 'b1'


def _type_on(lab, backend: str, name: str) -> str:
    lab.client.create_type(name, {
        'volume_backend_name': 'lab',
        'lab_reschedule_pair': '<is> %s' % (backend == 'b1')})
    return name


def _settled(lab, volume_id: str) -> dict:
    """The volume once neither a retype nor a migration is under way."""
    return rest.CinderClient.wait_for(
        lambda: lab.client.show_volume(volume_id),
        lambda v: v['status'] in ('available', 'error') and
        v['migration_status'] in (None, 'success', 'error'), 120,
        'volume %s settled' % volume_id)


def test_a_retype_the_current_backend_fits_stays_there(lab):
    volume = _volume(lab, 'retype-stay')
    backend = _backend(volume)
    new_type = _type_on(lab, backend, 'stay-on-%s' % backend)

    lab.client.retype(volume['id'], new_type, 'never')
    done = rest.CinderClient.wait_for(
        lambda: _settled(lab, volume['id']),
        lambda v: v['volume_type'] == new_type, 60, 'the new type')

    assert (done['status'], done['migration_status']) == ('available', None)
    assert done['os-vol-host-attr:host'] == volume['os-vol-host-attr:host']


def test_a_retype_on_demand_moves_the_volume_to_the_new_types_backend(lab):
    volume = _volume(lab, 'retype-move')
    target = _other(_backend(volume))
    new_type = _type_on(lab, target, 'move-to-%s' % target)

    lab.client.retype(volume['id'], new_type, 'on-demand')
    done = rest.CinderClient.wait_for(
        lambda: _settled(lab, volume['id']),
        lambda v: v['volume_type'] == new_type, 120, 'the new type')

    assert (done['status'], done['migration_status']) == (
        'available', 'success')
    assert done['os-vol-host-attr:host'] == lab.pools[target]


def test_a_retype_that_must_not_migrate_is_undone(lab):
    volume = _volume(lab, 'retype-never')
    target = _other(_backend(volume))
    new_type = _type_on(lab, target, 'never-to-%s' % target)

    lab.client.retype(volume['id'], new_type, 'never')
    done = rest.CinderClient.wait_for(
        lambda: lab.client.show_volume(volume['id']),
        lambda v: v['status'] != 'retyping', 60, 'the retype refused')

    assert (done['status'], done['volume_type'],
            done['os-vol-host-attr:host']) == (
        'available', volume['volume_type'], volume['os-vol-host-attr:host'])


def test_a_migration_to_the_other_backend_moves_the_volume(lab):
    volume = _volume(lab, 'migrate-me')
    target = lab.pools[_other(_backend(volume))]

    lab.client.migrate(volume['id'], target)
    done = rest.CinderClient.wait_for(
        lambda: _settled(lab, volume['id']),
        lambda v: v['migration_status'] in ('success', 'error'), 120,
        'the migration')

    assert (done['status'], done['migration_status'],
            done['os-vol-host-attr:host']) == ('available', 'success',
                                               target)


def test_a_locked_migration_to_a_pool_no_backend_has_fails_and_unlocks(lab):
    volume = _volume(lab, 'migrate-nowhere')
    backend = _other(_backend(volume))
    nowhere = 'lab@%s#nowhere' % backend

    lab.client.migrate(volume['id'], nowhere, lock_volume=True)
    done = rest.CinderClient.wait_for(
        lambda: lab.client.show_volume(volume['id']),
        lambda v: v['migration_status'] not in ('starting', 'migrating'), 60,
        'the migration refused')

    assert (done['status'], done['migration_status'],
            done['os-vol-host-attr:host']) == (
        'available', 'error', volume['os-vol-host-attr:host'])
