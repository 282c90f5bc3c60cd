"""The RPC endpoint: what the worker answers on its topic. Thin."""

import logging
from typing import Any

from oslo_db import exception as db_exc
import oslo_messaging

from scheduler_worker import cinder_errors
from scheduler_worker import cleanup as cleanup_mod
from scheduler_worker import exception
from scheduler_worker import groups_ops
from scheduler_worker import manageable
from scheduler_worker import moves as moves_mod
from scheduler_worker import operations as operations_mod
from scheduler_worker import volumes
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import backups
from scheduler_worker.scheduler import pools
from scheduler_worker.scheduler import readiness as readiness_mod

LOG = logging.getLogger(__name__)


class SchedulerManager:
    """Server side of the scheduler RPC API.

    Accepts what Cinder's SchedulerAPI casts. API version history (the
    version numbers are Cinder's, so its clients are served unchanged):

    * 3.0 - create_volume(volume, snapshot_id, image_id, request_spec,
      filter_properties, backup_id)
    * 3.0 - update_service_capabilities(service_name, host, capabilities),
      cast by volume services to the topic's fanout exchange
    * 3.0 - get_pools(filters) (call)
    * 3.1 - notify_service_capabilities (accepted, ignored)
    * 3.2 - extend_volume(volume, new_size, reservations, request_spec,
      filter_properties) (Cinder mode)
    * 3.3 - update_service_capabilities takes cluster_name and timestamp
    * 3.9 - create_snapshot(volume, snapshot, backend, request_spec,
      filter_properties) (Cinder mode)
    * 3.12 - create_backup(backup) (Cinder mode)
    * 3.12 - the newest Cinder SchedulerAPI; its create_volume cast is
      unchanged since 3.0, so any 3.x up to 3.12 is accepted.
    """

    RPC_API_VERSION = '3.12'

    target = oslo_messaging.Target(version=RPC_API_VERSION)

    def __init__(self, creator: volumes.VolumeCreator,
                 registry: backends.BackendRegistry,
                 backup_registry: backups.BackupRegistry | None = None,
                 readiness: readiness_mod.Readiness | None = None,
                 operations: operations_mod.Operations | None = None,
                 volume_types=None, service_down_time: int = 60) -> None:
        """``operations`` (extend, snapshot, backup) exist in Cinder mode
        only; ``volume_types(context, name_or_id)`` finds a volume type
        for get_pools' filter (None: no type is known);
        ``service_down_time`` (s) tells a live services row from a dead
        one for work_cleanup, as Cinder's option of that name."""
        self._creator = creator
        self._registry = registry
        self._backups = backup_registry or backups.BackupRegistry(0)
        self._readiness = readiness or readiness_mod.Readiness(0)
        self._operations = operations
        self._volume_types = volume_types
        self._service_down_time = service_down_time

    @oslo_messaging.expected_exceptions(exception.Invalid)
    def update_service_capabilities(self, context, service_name=None,
                                    host=None, capabilities=None,
                                    cluster_name=None, timestamp=None,
                                    **kwargs) -> None:
        """Record a backend's capabilities (RPC API 3.0; 3.3 adds
        cluster_name and timestamp).

        :param service_name: 'volume', or 'backup' (kept to choose backup
            hosts); reports of other services are ignored, as Cinder does.
        :param host: the backend, ``host@backend``.
        :param capabilities: the driver's stats: backend-level values and
            ``pools`` (or a single pool's values), as Cinder drivers report.
        :param cluster_name: the backend's cluster, if any.
        :param timestamp: when the report was taken (ISO 8601, UTC);
            reports not newer than the stored one are ignored.
        :param kwargs: arguments a newer 3.x client may add; ignored.
        :raises Invalid: the report cannot be read; it is logged and
            dropped (the next report replaces it).
        """
        if service_name == backups.BACKUP_SERVICE:
            self._backup_report(host, capabilities)
            return
        try:
            self._registry.update_service_capabilities(
                context, service_name, host, capabilities,
                cluster_name=cluster_name, timestamp=timestamp)
        except exception.Invalid as exc:
            LOG.warning('%s', exc)
            raise
        except db_exc.DBConnectionError as exc:
            # NOTE: dropped rather than requeued: the backend reports again
            # within its interval, and a retried snapshot would be stale.
            LOG.warning('Capabilities of %s not stored: %s', host, exc)
            return
        # NOTE: the next placing sees the report at once.
        self._creator.scheduler.forget_pools()
        if service_name == backends.VOLUME_SERVICE:
            self._readiness.reported()

    def _backup_report(self, host, capabilities) -> None:
        if not isinstance(host, str) or not host or \
                not isinstance(capabilities, dict):
            exc = exception.InvalidCapabilities(
                host=str(host)[:255],
                reason='a backup report needs a host and a capabilities '
                       'object')
            LOG.warning('%s', exc)
            raise exc
        self._backups.update(host, capabilities)

    @oslo_messaging.expected_exceptions(
        cinder_errors.VolumeTypeNotFoundByName)
    def get_pools(self, context, filters=None, **kwargs) -> list[dict]:
        """The pools of the backends that are up, in Cinder's reply shape
        (RPC API 3.0, a call).

        :param filters: None, or equality filters: ``name`` (the pool's
            full name), ``volume_type`` (name or id: the pools its extra
            specs fit), any other key a capability's value.
        :returns: [{'name': 'host@backend#pool', 'capabilities': {...}}]
        :raises VolumeTypeNotFoundByName: (cinder.exception) no such type.
        """
        return pools.get_pools(context, self._creator.scheduler, filters,
                               self._volume_types)

    def _cinder_only(self, method: str) -> operations_mod.Operations:
        if self._operations is None:
            raise exception.Invalid(
                reason='%s is served in Cinder mode only ([database] '
                       'backend = cinder)' % method)
        return self._operations

    @oslo_messaging.expected_exceptions(exception.Refused)
    def extend_volume(self, context, volume=None, new_size=None,
                      reservations=None, request_spec=None,
                      filter_properties=None, **kwargs) -> None:
        """Check room for the new size on the volume's pool, then cast
        extend_volume to its volume service (RPC API 3.2; Cinder mode).

        :raises Refused: no room: status restored, reservations rolled
            back, user message 007/003, ERROR scheduler.extend_volume.
        :raises Invalid: not Cinder's Volume, or outside Cinder mode.
        """
        self._cinder_only('extend_volume').extend_volume(
            context, volume, new_size, reservations, request_spec)

    @oslo_messaging.expected_exceptions(exception.Refused)
    def create_snapshot(self, context, volume=None, snapshot=None,
                        backend=None, request_spec=None,
                        filter_properties=None, **kwargs) -> None:
        """Check the volume's backend, then cast create_snapshot to it
        (RPC API 3.9; Cinder mode).

        :raises Refused: the backend cannot hold a copy: snapshot error,
            ERROR scheduler.create_snapshot.
        :raises Invalid: not Cinder's objects, or outside Cinder mode.
        """
        self._cinder_only('create_snapshot').create_snapshot(
            context, volume, snapshot, backend, request_spec)

    @oslo_messaging.expected_exceptions(exception.Refused)
    def create_backup(self, context, backup=None, **kwargs) -> None:
        """Choose a backup service, cast create_backup to it (RPC API
        3.12; Cinder mode).

        :raises Refused: no backup service is up in the zone: backup
            error, volume status given back, user message 013/024.
        :raises Invalid: not Cinder's Backup, or outside Cinder mode.
        """
        self._cinder_only('create_backup').create_backup(context, backup)

    def notify_service_capabilities(self, context, service_name=None,
                                    capabilities=None, host=None,
                                    backend=None, timestamp=None,
                                    **kwargs) -> None:
        """Accepted and ignored (RPC API 3.1, 3.5).

        Cinder's volume services cast it so that a scheduler emits capacity
        notifications; scheduling relies on update_service_capabilities.
        Accepting it keeps such casts from being rejected as poison.
        """
        LOG.debug('Ignoring notify_service_capabilities from %s',
                  backend or host)

    @oslo_messaging.expected_exceptions(exception.Refused)
    def create_volume(self, context, volume=None, request_spec=None,
                      filter_properties=None, snapshot_id=None,
                      image_id=None, backup_id=None, **kwargs) -> None:
        """Place a volume on a pool, persist it and report it (RPC API 3.0).

        The RPC server hands casts to CreateVolumeBatch; this method
        serves the same for one RPC call, as a batch of one.

        :param volume: a Volume (ours or Cinder's 1.x primitive) or a dict
            of Cinder's volume fields; ``size`` is required.
        :param request_spec: Cinder's RequestSpec or a dict; its
            volume_properties supply user and project when the volume
            lacks them, and it is echoed in failure notifications.
        :param filter_properties: its ``retry`` (a volume service sent the
            volume back) excludes the backends tried and counts attempts.
        :param snapshot_id: accepted; the volume's own field is stored.
        :param image_id: accepted for Cinder compatibility.
        :param backup_id: accepted for Cinder compatibility.
        :param kwargs: arguments a newer 3.x client may add; ignored.
        :raises Refused: the request cannot be honoured (Invalid, or no
            pool can hold it: NoValidBackend); the volume is recorded in
            error and an ERROR notification was sent.
        :raises Invalid: the request has no volume id to record it
            under; nothing was recorded or reported.
        """
        LOG.debug('create_volume cast received (message %s)',
                  context.message_id)
        if kwargs:
            LOG.debug('Ignoring create_volume arguments %s',
                      ', '.join(sorted(kwargs)))
        self._readiness.wait()
        [result] = self._creator.create(
            [volumes.Request(context, volume, request_spec,
                             filter_properties=filter_properties)])
        if result is not None:
            raise result

    # retype, migrate_volume, migrate_volume_to_host (issue 11): Cinder
    # mode, on the Cinder-mode operations' outbox, scheduler and readiness.

    def _cinder_moves(self, method: str) -> moves_mod.Moves:
        operations = self._cinder_only(method)
        if getattr(self, '_moves', None) is None:
            self._moves = moves_mod.Moves(operations.outbox,
                                          operations.scheduler,
                                          operations.readiness)
        return self._moves

    @oslo_messaging.expected_exceptions(exception.Refused)
    def retype(self, context, volume=None, request_spec=None,
               filter_properties=None, **kwargs) -> None:
        """Find a pool of the new type for the volume, then cast retype
        to its volume service (RPC API 3.0; Cinder mode).

        :param volume: Cinder's Volume, status ``retyping``.
        :param request_spec: Cinder's plain dict: volume_type (the new
            one), migration_policy, quota_reservations, old_reservations.
        :raises Refused: no pool: status restored, the new type's
            reservations rolled back, ERROR scheduler.retype.
        :raises Invalid: not Cinder's request, or outside Cinder mode.
        """
        self._cinder_moves('retype').retype(context, volume, request_spec)

    @oslo_messaging.expected_exceptions(exception.Refused)
    def migrate_volume(self, context, volume=None, backend=None,
                       force_copy=False, request_spec=None,
                       filter_properties=None, **kwargs) -> None:
        """Check the destination against the filters, then cast
        migrate_volume to the volume's own service (RPC API 3.3; Cinder
        mode).

        :param backend: the destination, ``host@backend[#pool]`` (or its
            cluster).
        :param force_copy: passed on; the check is made regardless.
        :raises Refused: the destination does not pass: migration_status
            error, ERROR scheduler.migrate_volume_to_host.
        :raises Invalid: not Cinder's request, or outside Cinder mode.
        """
        self._cinder_moves('migrate_volume').migrate_volume(
            context, volume, backend, force_copy, request_spec,
            'migrate_volume')

    @oslo_messaging.expected_exceptions(exception.Refused)
    def migrate_volume_to_host(self, context, volume=None, host=None,
                               force_host_copy=False, request_spec=None,
                               filter_properties=None, **kwargs) -> None:
        """migrate_volume as a cinder-api capped below 3.3 casts it (RPC
        API 3.0): ``host`` and ``force_host_copy``; same outcome."""
        self._cinder_moves('migrate_volume_to_host').migrate_volume(
            context, volume, host, force_host_copy, request_spec, None)
    # Issue 11: manage_existing, manage_existing_snapshot, create_group
    # (Cinder mode; scheduler_worker/manageable.py, groups_ops.py).

    def _issue11(self, method: str):
        ops = self._cinder_only(method)
        return (manageable.Manageable(ops.outbox, ops.scheduler,
                                      ops.readiness),
                groups_ops.Groups(ops.outbox, ops.scheduler, ops.readiness))

    @oslo_messaging.expected_exceptions(exception.Refused)
    def manage_existing(self, context, volume=None, request_spec=None,
                        filter_properties=None, **kwargs) -> None:
        """Check the named backend, write the pool chosen, cast
        manage_existing to its volume service (RPC API 3.0; Cinder mode).

        :raises Refused: the backend does not pass the filters: volume
            error_managing, ERROR scheduler.manage_existing.
        :raises Invalid: not Cinder's Volume, no ``ref``, or outside
            Cinder mode.
        """
        self._issue11('manage_existing')[0].manage_existing(
            context, volume, request_spec)

    @oslo_messaging.expected_exceptions(exception.Refused)
    def manage_existing_snapshot(self, context, volume=None, snapshot=None,
                                 ref=None, request_spec=None,
                                 filter_properties=None, **kwargs) -> None:
        """Check the volume's backend, cast manage_existing_snapshot to it
        (RPC API 3.11; cast at 3.0; Cinder mode).

        :raises Refused: the backend does not pass the filters: snapshot
            error, ERROR scheduler.manage_existing_snapshot.
        :raises Invalid: not Cinder's objects, no ``ref``, or outside
            Cinder mode.
        """
        self._issue11('manage_existing_snapshot')[0].manage_existing_snapshot(
            context, volume, snapshot, ref, request_spec)

    @oslo_messaging.expected_exceptions(exception.Refused)
    def create_group(self, context, group=None, group_spec=None,
                     group_filter_properties=None, request_spec_list=None,
                     filter_properties_list=None, **kwargs) -> None:
        """Place a group on a backend that fits every volume type of it and
        its group type, cast create_group there (RPC API 3.0; Cinder mode).

        :raises Refused: no backend fits: group error (no message, no
            notification, as Cinder).
        :raises Invalid: not Cinder's Group, malformed specs, or outside
            Cinder mode.
        """
        self._issue11('create_group')[1].create_group(
            context, group, group_spec, request_spec_list)

    def _cleanup(self, method: str) -> cleanup_mod.Cleanup:
        ops = self._cinder_only(method)
        return cleanup_mod.Cleanup(ops.outbox, self._creator.mode.service_id,
                                   self._service_down_time)

    def work_cleanup(self, context, cleanup_request=None,
                     **kwargs) -> list[list[dict]]:
        """Send do_cleanup to the services a CleanupRequest selects (RPC
        API 3.4, a call; Cinder mode).

        :returns: [requested, not_requested]: Service primitives, which
            cinder-api shows as ``cleaning`` and ``unavailable``.
        :raises Invalid: not Cinder's CleanupRequest, or outside Cinder
            mode.
        """
        return self._cleanup('work_cleanup').work_cleanup(context,
                                                          cleanup_request)

    def do_cleanup(self, context, cleanup_request=None, **kwargs) -> None:
        """Clean a scheduler's workers rows: Volumes still ``creating``
        go to ``error`` (RPC API 3.4, a cast; Cinder mode).

        :raises Invalid: not Cinder's CleanupRequest, or outside Cinder
            mode.
        """
        self._cleanup('do_cleanup').do_cleanup(context, cleanup_request)


class CreateVolumeBatch:
    """create_volume for the casts of one batch; not an RPC method.

    The RPC server hands over the create_volume casts it fetched together
    (see messaging/server.py); each gets the outcome create_volume would
    have had. ``target`` is the endpoint's, for version checks.
    """

    method = 'create_volume'
    target = SchedulerManager.target

    def __init__(self, creator: volumes.VolumeCreator,
                 readiness: readiness_mod.Readiness | None = None) -> None:
        self._creator = creator
        self._readiness = readiness or readiness_mod.Readiness(0)

    def __call__(self, casts: list[Any]) -> list[Exception | None]:
        """Outcomes of decoded casts (messaging.batches.Cast: context,
        create_volume arguments, and what decoding refused).

        :returns: per cast, None (stored), Refused (recorded and
            reported) or Invalid (poison: nothing recorded).
        :raises: what the whole batch cannot get past: a temporary
            database failure, TemporaryFailure.
        """
        for cast in casts:
            LOG.debug('create_volume cast received (message %s, in a batch '
                      'of %d)', cast.context.message_id, len(casts),
                      extra={'context': cast.context})
        self._readiness.wait()
        return self._creator.create([
            volumes.Request(cast.context, cast.kwargs.get('volume'),
                            cast.kwargs.get('request_spec'), cast.refusal,
                            cast.kwargs.get('filter_properties'))
            for cast in casts])
