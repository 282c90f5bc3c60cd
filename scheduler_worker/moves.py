"""retype, migrate_volume, migrate_volume_to_host: Cinder mode, as Cinder's.

A volume changes type or backend (doc/cinder-scheduler-reference.md §1.6,
§1.7). The scheduler only chooses where the volume is to be: it casts
``retype`` or ``migrate_volume`` (3.5) to the volume's own (source)
service, which does the work. As in operations.py, each cast ends in ONE
transaction with its cast key and its outbox rows; a refusal restores
what Cinder restores (retype: the status, the new type's reservations
rolled back; migrate: ``migration_status`` error, the status given back
when the volume was locked) with Cinder's ERROR notification. Neither
writes a user message, as Cinder.

No capacity is claimed, as Cinder takes none that outlives its process:
the destination's room is checked by the filters, and the volume service
creates the destination's volume row itself, which the derived
allocation then counts.
"""

from typing import Any

from oslo_log import log as logging

from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import operations
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import hosts
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import pools as pools_mod
from scheduler_worker.scheduler import request as scheduler_request

LOG = logging.getLogger(__name__)

# NOTE: Cinder's volume RPC API version of retype and migrate_volume with
# cluster_name in ``host`` (volume/rpcapi.py).
MOVE_VERSION = '3.5'
POLICIES = ('never', 'on-demand')
MIGRATE_ERROR = 'scheduler.migrate_volume_to_host'
RETYPE_ERROR = 'scheduler.retype'

def _reservations(value: Any, what: str) -> list[str]:
    try:
        return operations.checked_reservations(value)
    except exception.Invalid:
        raise exception.Invalid(reason='%s must be a list of reservation '
                                'ids' % what) from None


def _spec(value: Any) -> dict[str, Any]:
    """The request spec Cinder sends these methods: a plain dict."""
    if not isinstance(value, dict) or primitives.is_primitive(value):
        raise exception.Invalid(reason='request_spec must be a plain object')
    return primitives.to_plain(value)


def _volume_type(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise exception.Invalid(reason='%s must be an object' % what)
    return value


def destination(pool: pool_state.PoolState) -> dict[str, Any]:
    """The ``host`` argument of Cinder's retype / migrate_volume cast: the
    chosen pool's host and cluster (pool level) and its capabilities as
    get_pools reports them (Cinder's BackendState of that pool)."""
    return {'host': pool.host,
            'cluster_name': hosts.append_host(pool.cluster_name,
                                              pool.pool_name),
            'capabilities': pools_mod.reported(pool.row)}


def _source(volume: primitives.Primitive) -> tuple[str, str]:
    return volume_rpcapi.volume_target(volume.data.get('cluster_name') or
                                       volume.data['host'])


def retype_cast(volume: primitives.Primitive, new_type_id: str,
                pool: pool_state.PoolState, migration_policy: str,
                reservations: list[str] | None,
                old_reservations: list[str] | None) -> volume_rpcapi.Cast:
    """retype 3.5 to the volume's (source) service, the volume as received."""
    topic, server = _source(volume)
    return volume_rpcapi.Cast(topic, server, 'retype', {
        'volume': volume.to_wire(), 'new_type_id': new_type_id,
        'host': destination(pool), 'migration_policy': migration_policy,
        'reservations': reservations,
        'old_reservations': old_reservations}, MOVE_VERSION)


def migrate_cast(volume: primitives.Primitive, pool: pool_state.PoolState,
                 force_host_copy: bool) -> volume_rpcapi.Cast:
    """migrate_volume 3.5 to the volume's (source) service."""
    topic, server = _source(volume)
    return volume_rpcapi.Cast(topic, server, 'migrate_volume', {
        'volume': volume.to_wire(), 'host': destination(pool),
        'force_host_copy': force_host_copy}, MOVE_VERSION)


def retype_target(candidates: list[pool_state.PoolState], current: str,
                  policy: str, volume_id: str,
                  volume_type: Any) -> pool_state.PoolState:
    """Cinder's find_retype_backend over the candidates, best first.

    The current pool if it passed; for a legacy host without a pool, any
    pool of its backend; else, with policy on-demand, the best pool.
    """
    for pool in candidates:
        if pool.cinder_backend_id == current:
            return pool
    if hosts.extract_host(current, 'pool') is None:
        for pool in candidates:
            if hosts.extract_host(pool.cinder_backend_id,
                                  'backend') == current:
                return pool
    if policy == 'never':
        raise exception.NoValidBackend(
            reason='Current backend not valid for volume %s with type %s, '
                   'migration not allowed' % (volume_id, volume_type))
    return candidates[0]


def migrate_target(candidates: list[pool_state.PoolState],
                   backend: str) -> pool_state.PoolState | None:
    """Cinder's backend_passes_filters: the candidate ``backend`` names
    (a pool; or, naming no pool, any pool of that backend)."""
    ignore_pool = hosts.extract_host(backend, 'pool') is None
    for pool in candidates:
        found = pool.cinder_backend_id
        if ignore_pool:
            found = hosts.extract_host(found, 'backend')
        if found == backend:
            return pool
    return None


class Moves(operations.CinderMethods):
    """The Cinder-mode retype and migrations behind the endpoints."""

    def _candidates(self, context, request) -> list[pool_state.PoolState]:
        try:
            return self.scheduler.candidates(context, request)
        except exception.NoValidBackend as exc:
            LOG.info('No pool passes for volume of %s GiB: %s',
                     request.size, exc, context=context)
            return []

    def retype(self, context, volume: Any, request_spec: Any) -> None:
        """Find the new type's pool (the current one when it passes, else
        per migration_policy), cast retype to the volume's service.

        :raises Refused: no pool: status restored, the new type's
            reservations rolled back, ERROR scheduler.retype.
        :raises Invalid: the request cannot be read; nothing written.
        """
        data = operations.cinder_object(volume, 'Volume')
        volume_id = operations.checked_uuid(data, 'id', 'volume')
        current = operations.checked_string(
            data.get('cluster_name') or data.get('host'), 'the volume host')
        size = operations.checked_size(data.get('size'), 'volume size')
        spec = _spec(request_spec)
        reservations = _reservations(spec.get('quota_reservations'),
                                     'quota_reservations')
        old_reservations = spec.get('old_reservations')
        _reservations(old_reservations, 'old_reservations')
        policy = spec.get('migration_policy') or 'never'
        if policy not in POLICIES:
            raise exception.Invalid(reason='migration_policy must be one of '
                                    '%s' % ', '.join(POLICIES))
        new_type = spec.get('volume_type')
        if new_type is not None:
            new_type = _volume_type(new_type, 'volume_type')
            operations.checked_uuid(new_type, 'id', 'volume_type')
        zones = spec.get('availability_zones')
        zones = [z for z in zones if isinstance(z, str) and z] \
            if isinstance(zones, list) else []
        key = 'retype:%s:%s' % (volume_id, context.request_id)
        self.readiness.wait()
        if new_type is None:
            refusal: Exception = exception.ParameterNotFound(
                param='volume_type')
        else:
            candidates = self._candidates(
                context, scheduler_request.VolumeRequest(
                    context, size=size, availability_zones=zones,
                    volume_type=new_type, request_spec=spec,
                    exists_on=current))
            try:
                if not candidates:
                    raise exception.NoValidBackend(
                        reason='No valid backends for volume %s with type %s'
                        % (volume_id, new_type))
                pool = retype_target(candidates, current, policy,
                                     volume_id, new_type)
            except exception.NoValidBackend as exc:
                refusal = exc
            else:
                rows = retype_cast(
                    volume, new_type['id'], pool, policy,
                    spec.get('quota_reservations'),
                    old_reservations).stage(self.outbox, context)
                self._commit(context, key, lambda: db.cast_handled(
                    context, key, rows), rows)
                return
        state = {'status': data.get('previous_status') or data.get('status')}
        rows = self.outbox.stage(
            context, RETYPE_ERROR, 'ERROR', notifications.create_failure(
                volume_id, dict(spec, operation='retype_volume'),
                spec.get('volume_properties') or {}, refusal,
                method='retype', state=state))
        if self._commit(context, key, lambda: db.volume_move_refused(
                context, volume_id, state, reservations, context.project_id,
                rows, key), rows):
            LOG.error('Failed to schedule_retype: %s', refusal,
                      volume_id=volume_id, context=context)
            raise exception.Refused(refusal)

    def migrate_volume(self, context, volume: Any, backend: Any,
                       force_copy: Any, request_spec: Any,
                       operation: str | None) -> None:
        """Check the destination against the filters (always, force_copy
        too, as Cinder), cast migrate_volume to the volume's service.

        ``operation`` is what Cinder's request spec says in the failure
        notification: 'migrate_volume', or None for migrate_volume_to_host
        (Cinder's decorator sees its arguments positionally).

        :raises Refused: the destination does not pass: migration_status
            error (status given back if locked), ERROR
            scheduler.migrate_volume_to_host.
        :raises Invalid: the request cannot be read; nothing written.
        """
        data = operations.cinder_object(volume, 'Volume')
        volume_id = operations.checked_uuid(data, 'id', 'volume')
        operations.checked_string(
            data.get('cluster_name') or data.get('host'), 'the volume host')
        size = operations.checked_size(data.get('size'), 'volume size')
        backend = operations.checked_string(backend, 'backend')
        if not isinstance(force_copy, bool):
            raise exception.Invalid(reason='force_copy must be true or false')
        spec = _spec(request_spec)
        volume_type = spec.get('volume_type')
        volume_type = {} if volume_type is None else \
            _volume_type(volume_type, 'volume_type')
        key = 'migrate_volume:%s:%s' % (volume_id, context.request_id)
        self.readiness.wait()
        pool = migrate_target(self._candidates(
            context, scheduler_request.VolumeRequest(
                context, size=size, volume_type=volume_type,
                request_spec=spec)), backend)
        if pool is not None:
            rows = migrate_cast(volume, pool, force_copy).stage(
                self.outbox, context)
            self._commit(context, key, lambda: db.cast_handled(
                context, key, rows), rows)
            return
        refusal = exception.NoValidBackend(
            'Cannot place volume %s on %s.' % (volume_id, backend))
        state: dict[str, Any] = {'migration_status': 'error'}
        if data.get('status') == 'maintenance':
            state['status'] = data.get('previous_status') or 'maintenance'
        failed_spec = dict(spec, operation=operation) if operation else spec
        rows = self.outbox.stage(
            context, MIGRATE_ERROR, 'ERROR', notifications.create_failure(
                volume_id, failed_spec, spec.get('volume_properties') or {},
                refusal, method='migrate_volume_to_host', state=state))
        if self._commit(context, key, lambda: db.volume_move_refused(
                context, volume_id, state, [], context.project_id, rows,
                key), rows):
            LOG.error('Failed to schedule_migrate_volume_to_host: %s',
                      refusal, volume_id=volume_id, context=context)
            raise exception.Refused(refusal)
