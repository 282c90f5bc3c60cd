"""What extend_volume, create_snapshot and create_backup refuse as poison.

Each is refused before anything is read or written: nothing to record it
on (the RPC server rejects it with one ERROR notification).
"""

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import operations
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import backups
from scheduler_worker.scheduler import readiness

VOLUME_ID = '65c69cb7-5577-4f47-a23e-506b1c28d5b6'


def _cinder(name: str, **data) -> primitives.Primitive:
    return primitives.Primitive(name, 'cinder', '1.9', data)


@pytest.fixture
def ops():
    # NOTE: neither outbox nor scheduler is reached by a refused cast.
    return operations.Operations(None, None, backups.BackupRegistry(60),
                                 readiness.Readiness(0))


@pytest.mark.parametrize('volume, new_size, reservations', [
    ({'id': VOLUME_ID, 'host': 'h@b#p', 'size': 1}, 2, []),
    (primitives.Primitive('Volume', 'scheduler_worker', '1.0',
                          {'id': VOLUME_ID, 'host': 'h@b#p', 'size': 1}),
     2, []),
    (primitives.Primitive('Volume', 'cinder', '2.0',
                          {'id': VOLUME_ID, 'host': 'h@b#p', 'size': 1}),
     2, []),
    (_cinder('Volume', id='not-a-uuid', host='h@b#p', size=1), 2, []),
    (_cinder('Volume', id=VOLUME_ID, host=None, size=1), 2, []),
    (_cinder('Volume', id=VOLUME_ID, host='h@b#p', size=1), True, []),
    (_cinder('Volume', id=VOLUME_ID, host='h@b#p', size=1), '2', []),
    (_cinder('Volume', id=VOLUME_ID, host='h@b#p', size=1), 2, 'r1'),
    (_cinder('Volume', id=VOLUME_ID, host='h@b#p', size=1), 2, [1]),
])
def test_an_unreadable_extend_is_refused(ops, volume, new_size,
                                         reservations):
    with pytest.raises(exception.Invalid):
        ops.extend_volume(context.RequestContext('u', 'p'), volume,
                          new_size, reservations, {})


def test_a_snapshot_needs_cinders_snapshot_and_a_backend(ops):
    volume = _cinder('Volume', id=VOLUME_ID, host='h@b#p', size=1)
    ctxt = context.RequestContext('u', 'p')
    with pytest.raises(exception.Invalid):
        ops.create_snapshot(ctxt, volume, {'id': VOLUME_ID}, 'h@b#p', {})
    with pytest.raises(exception.Invalid):
        ops.create_snapshot(ctxt, volume, _cinder(
            'Snapshot', id=VOLUME_ID), None, {})


def test_a_backup_needs_cinders_backup_with_its_volume(ops):
    ctxt = context.RequestContext('u', 'p')
    with pytest.raises(exception.Invalid):
        ops.create_backup(ctxt, _cinder('Volume', id=VOLUME_ID))
    with pytest.raises(exception.Invalid):
        ops.create_backup(ctxt, _cinder('Backup', id=VOLUME_ID))
