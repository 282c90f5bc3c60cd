"""manage_existing, manage_existing_snapshot and create_group through
Cinder's REST API, once per scheduler slot: the same end states."""

import os


def _manageable(lab, backend: str, name: str, size_gb: int) -> None:
    """A file the lab driver can manage (its size in KiB stands for GiB,
    as tests/interop/capture_ops.py makes them)."""
    path = os.path.join(lab.tmp_path, 'volumes', backend, 'manageable', name)
    with open(path, 'wb') as f:
        f.truncate(size_gb * 1024)


def test_a_managed_volume_and_snapshot_become_available(lab):
    client = lab.client
    _manageable(lab, 'b2', 'interop-managed', 3)
    volume = client.manage_volume(lab.pools['b2'], 'interop-managed',
                                  name='interop-managed')
    volume = client.wait_volume(volume['id'],
                                statuses=('available', 'error',
                                          'error_managing'))
    assert (volume['status'], volume['size'],
            volume['os-vol-host-attr:host']) == ('available', 3,
                                                 lab.pools['b2'])
    _manageable(lab, 'b2', 'interop-managed-snap', 3)
    snapshot = client.manage_snapshot(volume['id'], 'interop-managed-snap',
                                      name='interop-managed-snap')
    snapshot = client.wait_snapshot(snapshot['id'])
    assert snapshot['status'] == 'available'


def test_managing_on_an_unknown_pool_ends_in_error(lab):
    client = lab.client
    _manageable(lab, 'b1', 'interop-nowhere', 1)
    volume = client.manage_volume(lab.pools['b1'].replace('#lab', '#none'),
                                  'interop-nowhere', name='interop-nowhere')
    volume = client.wait_volume(volume['id'],
                                statuses=('available', 'error',
                                          'error_managing'))
    # NOTE: the row says error_managing; cinder-api shows it as error.
    assert volume['status'] == 'error'


def test_a_group_of_two_volume_types_becomes_available(lab):
    client = lab.client
    group_type = client.create_group_type('interop-group-type')
    types = [client.create_type('interop-group-a',
                                {'volume_backend_name': 'lab'}),
             client.create_type('interop-group-b',
                                {'lab_reschedule_pair': '<is> True'})]
    group = client.create_group(group_type['id'], [t['id'] for t in types])
    group = client.wait_for(lambda: client.show_group(group['id']),
                            lambda g: g['status'] in ('available', 'error'),
                            60, 'the group')
    assert group['status'] == 'available'
