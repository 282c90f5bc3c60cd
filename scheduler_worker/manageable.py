"""manage_existing, manage_existing_snapshot: Cinder mode, as Cinder's.

cinder-api casts them when an operator brings a volume or snapshot a
backend already holds under Cinder's management (``POST
/manageable_volumes``, ``POST /manageable_snapshots``; reference §1.8,
§1.9). The scheduler only checks that the named backend passes the
filters (size 0 for a volume: its real size is the driver's to tell),
writes the pool chosen into the volume row, and passes the cast on to
the volume service. As in operations.py, each outcome is ONE transaction
with its cast key and its outbox rows; a refusal leaves what Cinder
leaves: a volume in ``error_managing`` (the notification says
``error``), a snapshot in ``error``; neither gets a user message.
"""

from typing import Any

from oslo_log import log as logging

from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import operations
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as scheduler_request

LOG = logging.getLogger(__name__)


def plain_request_spec(value: Any) -> dict[str, Any]:
    """The request spec as a plain dict; Invalid when it is none."""
    spec = primitives.to_plain(value)
    if not isinstance(spec, dict):
        raise exception.Invalid(reason='request_spec must be an object')
    return spec


def requested_size(spec: dict[str, Any], default: Any = None) -> int:
    """volume_properties' size: a whole number of GiB, 0 allowed (a
    volume to manage has no size until its driver tells)."""
    properties = spec.get('volume_properties')
    size = properties.get('size', default) if isinstance(
        properties, dict) else default
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise exception.Invalid(reason='request_spec volume_properties size '
                                'must be a whole number of GiB, not %r'
                                % (size,))
    return size


def checked_ref(value: Any) -> dict[str, Any]:
    """The driver's reference of what to manage: an object."""
    if not isinstance(value, dict) or not value:
        raise exception.Invalid(reason='ref must be a non-empty object')
    return value


def backend_of(data: dict[str, Any]) -> str:
    """The volume's service_topic_queue: cluster_name or host."""
    return operations.checked_string(
        data.get('cluster_name') or data.get('host'), 'the volume host')


def place(scheduler: driver.FilterScheduler, context, backend: str,
          size: int, spec: dict[str, Any]) -> pool_state.PoolState:
    """Cinder's backend_passes_filters: the heaviest pool of ``backend``
    (or that pool) that passes the filters for ``size`` GiB.

    :raises NoValidBackend: with Cinder's reason, "Cannot place <resource>
        <id> on <backend>."
    """
    volume_type = spec.get('volume_type')
    request = scheduler_request.VolumeRequest(
        context, size=size, host=backend, request_spec=spec,
        volume_type=volume_type if isinstance(volume_type, dict) else {})
    try:
        return scheduler.candidates(context, request)[0]
    except exception.NoValidBackend as exc:
        LOG.info('%s does not pass the filters: %s', backend, exc,
                 context=context)
    resource, resource_id = 'volume', '??id missing??'
    for name in ('volume', 'group', 'snapshot'):
        if spec.get('%s_id' % name):
            resource, resource_id = name, spec['%s_id' % name]
            break
    raise exception.NoValidBackend('Cannot place %s %s on %s.'
                                   % (resource, resource_id, backend))


def manage_existing_cast(volume: primitives.Primitive,
                         ref: dict[str, Any]) -> volume_rpcapi.Cast:
    """manage_existing to the volume's service (3.0): ``ref, volume``,
    the volume with the pool chosen (host, cluster_name)."""
    topic, server = volume_rpcapi.volume_target(
        volume.data.get('cluster_name') or volume.data['host'])
    return volume_rpcapi.Cast(topic, server, 'manage_existing', {
        'ref': ref, 'volume': volume.to_wire()},
        volume_rpcapi.VOLUME_VERSION)


def manage_existing_snapshot_cast(backend: str,
                                  snapshot: primitives.Primitive,
                                  ref: dict[str, Any]) -> volume_rpcapi.Cast:
    """manage_existing_snapshot to the volume's service (3.0):
    ``snapshot, ref``, the snapshot as received."""
    topic, server = volume_rpcapi.volume_target(backend)
    return volume_rpcapi.Cast(topic, server, 'manage_existing_snapshot', {
        'snapshot': snapshot.to_wire(), 'ref': ref},
        volume_rpcapi.VOLUME_VERSION)


class Manageable(operations.CinderMethods):
    """The Cinder-mode manage methods behind the manager's endpoints."""

    def manage_existing(self, context, volume: Any, request_spec: Any
                        ) -> None:
        """Check the volume's backend, write the pool chosen, cast
        manage_existing to its service; refused: Refused (volume
        error_managing, ERROR scheduler.manage_existing)."""
        data = operations.cinder_object(volume, 'Volume')
        volume_id = operations.checked_uuid(data, 'id', 'volume')
        backend = backend_of(data)
        spec = plain_request_spec(request_spec)
        size = requested_size(spec, 0)
        reference = checked_ref(spec.get('ref'))
        key = 'manage_existing:%s' % volume_id
        # NOTE: append_operation_type: the payload's request spec says so.
        spec = dict(spec, operation='manage_existing')
        self.readiness.wait()
        try:
            pool = place(self.scheduler, context, backend, size, spec)
        except exception.NoValidBackend as refusal:
            self._manage_refused(context, volume_id, spec, key, refusal)
            return
        placed = volume.updated(host=pool.host,
                                cluster_name=pool.cluster_name)
        rows = manage_existing_cast(placed, reference).stage(
            self.outbox, context)
        self._commit(context, key, lambda: db.volume_managed(
            context, volume_id, pool.host, pool.cluster_name, rows, key),
            rows)

    def _manage_refused(self, context, volume_id: str,
                        spec: dict[str, Any], key: str,
                        refusal: Exception) -> None:
        # NOTE: the row gets error_managing, the payload says error
        # (_set_volume_state_and_notify).
        rows = self.outbox.stage(
            context, 'scheduler.manage_existing', 'ERROR',
            notifications.create_failure(
                spec.get('volume_id'), spec,
                spec.get('volume_properties') or {}, refusal,
                method='manage_existing', state={'status': 'error'}))
        if self._commit(context, key, lambda: db.volume_manage_refused(
                context, volume_id, rows, key), rows):
            LOG.error('Failed to schedule_manage_existing: %s', refusal,
                      volume_id=volume_id, context=context)
            raise exception.Refused(refusal)

    def manage_existing_snapshot(self, context, volume: Any, snapshot: Any,
                                 ref: Any, request_spec: Any) -> None:
        """Check the volume's backend can hold the snapshot, cast
        manage_existing_snapshot to it; refused: Refused (snapshot error,
        ERROR scheduler.manage_existing_snapshot)."""
        volume_data = operations.cinder_object(volume, 'Volume')
        data = operations.cinder_object(snapshot, 'Snapshot')
        snapshot_id = operations.checked_uuid(data, 'id', 'snapshot')
        backend = backend_of(volume_data)
        reference = checked_ref(ref)
        spec = dict(plain_request_spec(request_spec),
                    operation='manage_existing_snapshot')
        size = requested_size(spec)
        key = 'manage_existing_snapshot:%s' % snapshot_id
        self.readiness.wait()
        try:
            place(self.scheduler, context, backend, size, spec)
        except exception.NoValidBackend as refusal:
            # NOTE: _set_snapshot_state_and_notify's payload.
            payload = {'request_spec': spec, 'snapshot_id': snapshot_id,
                       'state': 'error', 'method': 'manage_existing_snapshot',
                       'reason': notifications.exception_reason(refusal)}
            rows = self.outbox.stage(
                context, 'scheduler.manage_existing_snapshot', 'ERROR',
                payload)
            if self._commit(context, key, lambda: db.snapshot_refused(
                    context, snapshot_id, rows, key), rows):
                LOG.error('Cannot manage snapshot %s: %s', snapshot_id,
                          refusal, context=context)
                raise exception.Refused(refusal) from None
            return
        rows = manage_existing_snapshot_cast(
            backend, snapshot, reference).stage(self.outbox, context)
        self._commit(context, key, lambda: db.cast_handled(
            context, key, rows), rows)

