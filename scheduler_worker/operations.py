"""extend_volume, create_snapshot, create_backup: Cinder mode, as Cinder's.

What cinder-api casts to its scheduler besides create_volume in daily use
(reference §1.3-1.5). Each cast ends in ONE transaction with its cast key
(a redelivery finds it and does nothing) and its outbox rows (the onward
cast, or the ERROR notification), so the cast is acknowledged only once
its outcome is committed, and the onward cast is sent even if the worker
dies right after the commit. A refused request leaves what Cinder leaves:
extend restores the status and rolls the reservations back, a snapshot
goes to error, a backup to error with the volume's status given back;
the user message and the notification are Cinder's.
"""

from typing import Any

from oslo_db import exception as db_exc
from oslo_log import log as logging

from scheduler_worker import cinder_messages
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import validation
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import backups
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import readiness as readiness_mod
from scheduler_worker.scheduler import request as scheduler_request

LOG = logging.getLogger(__name__)

BACKUP_NO_SERVICE = 'Service not found for creating backup.'


def cinder_object(value: Any, name: str) -> dict[str, Any]:
    """The data of Cinder's ``name`` object 1.x; Invalid otherwise."""
    kind = frozenset({(primitives.CINDER_NAMESPACE, name)})
    if not isinstance(value, primitives.Primitive) or not value.is_a(kind) \
            or not isinstance(value.data, dict) or \
            str(value.version).split('.')[0] != '1':
        raise exception.Invalid(reason="%s must be Cinder's %s 1.x object"
                                % (name.lower(), name))
    return value.data


def checked_uuid(data: dict[str, Any], key: str, what: str) -> str:
    try:
        found = validation.check_uuid(key, data.get(key))
    except ValueError as exc:
        raise exception.Invalid(reason='%s: %s' % (what, exc)) from None
    if found is None:
        raise exception.Invalid(reason='%s has no %s' % (what, key))
    return found


def checked_string(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise exception.Invalid(reason='%s must be a non-empty string' % what)
    return value


def checked_size(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise exception.Invalid(reason='%s must be a positive whole number '
                                'of GiB' % what)
    return value


def checked_reservations(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(r, str) for r in value):
        raise exception.Invalid(reason='reservations must be a list of '
                                'reservation ids')
    return value


def _plain(value: Any) -> dict[str, Any]:
    plain = primitives.to_plain(value)
    return plain if isinstance(plain, dict) else {}


class CinderMethods:
    """What every group of Cinder-mode methods works with: the outbox,
    the filter scheduler, the start-up readiness; and how an outcome is
    committed (one transaction with its cast key, then published)."""

    def __init__(self, outbox: notifications.Outbox,
                 scheduler: driver.FilterScheduler,
                 readiness: readiness_mod.Readiness) -> None:
        self.outbox = outbox
        self.scheduler = scheduler
        self.readiness = readiness

    def _commit(self, context, key: str, store, rows) -> bool:
        """Run one transaction; publish its rows. False: a redelivery."""
        try:
            store()
        except db_exc.DBDuplicateEntry:
            LOG.info('Cast %s was handled already: duplicate delivery, '
                     'nothing to do', key, context=context)
            return False
        self.outbox.publish(rows)
        return True


class Operations(CinderMethods):
    """extend_volume, create_snapshot, create_backup (Cinder mode)."""

    def __init__(self, outbox: notifications.Outbox,
                 scheduler: driver.FilterScheduler,
                 backup_registry: backups.BackupRegistry,
                 readiness: readiness_mod.Readiness) -> None:
        super().__init__(outbox, scheduler, readiness)
        self.backups = backup_registry

    def _fits(self, context, backend: str, size: int,
              volume_type: dict[str, Any], spec: dict[str, Any]) -> bool:
        """Whether ``backend`` passes the filters for ``size`` more GiB
        (Cinder's backend_passes_filters; a backend naming no pool
        matches each of its pools)."""
        request = scheduler_request.VolumeRequest(
            context, size=size, volume_type=volume_type, host=backend,
            request_spec=spec)
        try:
            self.scheduler.candidates(context, request)
        except exception.NoValidBackend as exc:
            LOG.info('%s does not fit %s GiB: %s', backend, size, exc,
                     context=context)
            return False
        return True

    def extend_volume(self, context, volume: Any, new_size: Any,
                      reservations: Any, request_spec: Any) -> None:
        """Check room on the volume's pool, cast extend_volume to its
        service; no room: Refused (status restored, reservations rolled
        back, message 007/003, ERROR scheduler.extend_volume)."""
        data = cinder_object(volume, 'Volume')
        volume_id = checked_uuid(data, 'id', 'volume')
        backend = checked_string(data.get('cluster_name') or data.get('host'),
                          'the volume host')
        size = checked_size(data.get('size'), 'volume size')
        new_size = checked_size(new_size, 'new_size')
        reservations = checked_reservations(reservations)
        # NOTE: as Cinder's append_operation_type: the filters read it.
        spec = dict(_plain(request_spec), operation='extend_volume')
        key = 'extend_volume:%s:%d:%s' % (volume_id, new_size,
                                          context.request_id)
        volume_type = spec.get('volume_type') or {}
        if self._fits(context, backend, new_size - size,
                      volume_type if isinstance(volume_type, dict) else {},
                      spec):
            rows = volume_rpcapi.extend_volume(
                volume, new_size, reservations).stage(self.outbox, context)
            self._commit(context, key, lambda: db.cast_handled(
                context, key, rows), rows)
            return
        refusal = exception.NoValidBackend(
            'Cannot place volume %s on %s.' % (volume_id, backend))
        state = {'status': data.get('previous_status'),
                 'previous_status': None}
        rows = self.outbox.stage(
            context, 'scheduler.extend_volume', 'ERROR',
            notifications.create_failure(
                volume_id, spec, spec.get('volume_properties') or {},
                refusal, method='extend_volume', state=state))
        messages = [cinder_messages.extend_volume_failed(
            context, volume_id, refusal)]
        if self._commit(context, key, lambda: db.volume_extend_refused(
                context, volume_id, reservations, data.get('project_id'),
                messages, rows, key), rows):
            LOG.error('Cannot extend volume %s to %d GiB: %s', volume_id,
                      new_size, refusal, volume_id=volume_id,
                      context=context)
            raise exception.Refused(refusal)

    def create_snapshot(self, context, volume: Any, snapshot: Any,
                        backend: Any, request_spec: Any) -> None:
        """Check the volume's pool still has room for a copy, cast
        create_snapshot to its service; no room: Refused (snapshot error,
        ERROR scheduler.create_snapshot)."""
        volume_data = cinder_object(volume, 'Volume')
        data = cinder_object(snapshot, 'Snapshot')
        snapshot_id = checked_uuid(data, 'id', 'snapshot')
        backend = checked_string(backend, 'backend')
        spec = _plain(request_spec)
        properties = spec.get('volume_properties') or {}
        size = checked_size(properties.get('size', volume_data.get('size')),
                     'volume size')
        key = 'create_snapshot:%s' % snapshot_id
        self.readiness.wait()
        if self._fits(context, backend, size, {}, spec):
            rows = volume_rpcapi.create_snapshot(
                volume_data.get('cluster_name') or backend,
                snapshot).stage(self.outbox, context)
            self._commit(context, key, lambda: db.snapshot_hand_off(
                context, snapshot_id, rows, key), rows)
            return
        refusal = exception.NoValidBackend(
            'Cannot place snapshot %s on %s.' % (snapshot_id, backend))
        # NOTE: _set_snapshot_state_and_notify's payload.
        payload = {'request_spec': dict(spec, operation='create_snapshot',
                                        resource_properties=properties),
                   'snapshot_id': snapshot_id, 'state': 'error',
                   'method': 'create_snapshot',
                   'reason': notifications.exception_reason(refusal)}
        rows = self.outbox.stage(context, 'scheduler.create_snapshot',
                                 'ERROR', payload)
        if self._commit(context, key, lambda: db.snapshot_refused(
                context, snapshot_id, rows, key), rows):
            LOG.error('Cannot create snapshot %s: %s', snapshot_id, refusal,
                      context=context)
            raise exception.Refused(refusal)

    def create_backup(self, context, backup: Any) -> None:
        """Choose a backup service in the volume's zone, cast create_backup
        to it; none: Refused (backup error, volume status given back,
        message 013/024; no notification, as Cinder)."""
        data = cinder_object(backup, 'Backup')
        backup_id = checked_uuid(data, 'id', 'backup')
        volume_id = checked_uuid(data, 'volume_id', 'backup')
        key = 'create_backup:%s' % backup_id
        host = data.get('host')
        if not host:
            try:
                volume = db.volume_get(context, volume_id)
            except exception.VolumeNotFound as exc:
                raise exception.Invalid(reason=str(exc)) from None
            host = self.backups.choose(data.get('availability_zone') or
                                       volume.get('availability_zone'))
        if host:
            rows = volume_rpcapi.create_backup(backup, host).stage(
                self.outbox, context)
            self._commit(context, key, lambda: db.backup_hand_off(
                context, backup_id, host, rows, key), rows)
            return
        messages = [cinder_messages.create_backup_failed(context, backup_id)]
        if self._commit(context, key, lambda: db.backup_refused(
                context, backup_id, volume_id, BACKUP_NO_SERVICE, messages,
                [], key), []):
            LOG.error('Cannot create backup %s: no backup service is up in '
                      'its zone', backup_id, context=context)
            raise exception.Refused(exception.ServiceNotFound(
                binary='cinder-backup', host='any'))
