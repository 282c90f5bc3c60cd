"""create_group: Cinder mode, as Cinder's (reference §1.2).

cinder-api casts it for ``POST /groups`` once the group row is
``creating``. As Cinder's FilterScheduler.schedule_create_group: the
pools are filtered and weighed for each volume type of the group (size 0)
and for the group type (its group_specs act as extra specs); the group
goes to the heaviest pool of the first volume type whose backend
(``host@backend``) passed for every volume type and for the group type.
Nothing is claimed: each volume of the group is placed by its own
create_volume later. The outcome is ONE transaction with the cast key and
the outbox row: the group's host and cluster_name with the onward
create_group cast, or status ``error`` (no user message, no notification,
as Cinder).
"""

from typing import Any

from oslo_log import log as logging
from oslo_utils import timeutils

from scheduler_worker import exception
from scheduler_worker import manageable
from scheduler_worker import operations
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import hosts
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as scheduler_request

LOG = logging.getLogger(__name__)


def _dict(value: Any, what: str) -> dict[str, Any]:
    plain = primitives.to_plain(value)
    if not isinstance(plain, dict):
        raise exception.Invalid(reason='%s must be an object' % what)
    return plain


def checked_specs(group_spec: Any, request_spec_list: Any
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The group spec and one request spec per volume type; Invalid."""
    group_spec = _dict(group_spec, 'group_spec')
    if not isinstance(request_spec_list, list) or not request_spec_list:
        raise exception.Invalid(reason='request_spec_list must be a '
                                'non-empty list, one per volume type')
    specs = [_dict(spec, 'each request_spec_list item')
             for spec in request_spec_list]
    for spec in [group_spec, *specs]:
        manageable.requested_size(spec)
    return group_spec, specs


def choose(scheduler: driver.FilterScheduler, context,
           group_spec: dict[str, Any],
           specs: list[dict[str, Any]]) -> pool_state.PoolState:
    """The pool the group goes to; NoValidBackend when none."""
    pools = scheduler.pools(context)
    group_type = group_spec.get('group_type')
    group_specs = group_type.get('group_specs') if isinstance(
        group_type, dict) else None
    by_group_type = scheduler.candidates(
        context, scheduler_request.VolumeRequest(
            context, size=manageable.requested_size(group_spec),
            volume_type={'extra_specs': group_specs if isinstance(
                group_specs, dict) else {}},
            request_spec=group_spec), pools)
    chosen: list[pool_state.PoolState] | None = None
    for spec in specs:
        volume_type = spec.get('volume_type')
        found = scheduler.candidates(context, scheduler_request.VolumeRequest(
            context, size=manageable.requested_size(spec),
            volume_type=volume_type if isinstance(volume_type, dict) else {},
            request_spec=spec), pools)
        chosen = found if chosen is None else _same_backend(chosen, found)
    chosen = _same_backend(chosen or [], by_group_type)
    if not chosen:
        raise exception.NoValidBackend(reason='No weighed backends '
                                              'available')
    return chosen[0]


def _same_backend(first: list[pool_state.PoolState],
                  second: list[pool_state.PoolState]
                  ) -> list[pool_state.PoolState]:
    """Cinder's _find_valid_backends: the pools of ``first``, in order,
    whose backend (pool ignored) has a pool in ``second``."""
    backends = {hosts.extract_host(pool.host, 'backend') for pool in second}
    return [pool for pool in first
            if hosts.extract_host(pool.host, 'backend') in backends]


def create_group_cast(group: primitives.Primitive) -> volume_rpcapi.Cast:
    """create_group to the group's service (3.0): ``group`` as Cinder's
    generic_group_update_db left it."""
    topic, server = volume_rpcapi.volume_target(
        group.data.get('cluster_name') or group.data['host'])
    return volume_rpcapi.Cast(topic, server, 'create_group',
                              {'group': group.to_wire()},
                              volume_rpcapi.VOLUME_VERSION)


class Groups(operations.CinderMethods):
    """create_group behind the manager's endpoint (Cinder mode)."""

    def create_group(self, context, group: Any, group_spec: Any,
                     request_spec_list: Any) -> None:
        """Place the group on a backend every volume type fits, cast
        create_group there; none: Refused (group error)."""
        data = operations.cinder_object(group, 'Group')
        group_id = operations.checked_uuid(data, 'id', 'group')
        group_spec, specs = checked_specs(group_spec, request_spec_list)
        key = 'create_group:%s' % group_id
        self.readiness.wait()
        try:
            pool = choose(self.scheduler, context, group_spec, specs)
        except exception.NoValidBackend as refusal:
            if self._commit(context, key, lambda: db.group_refused(
                    context, group_id, [], key), []):
                LOG.error('Could not find a backend for group %s: %s',
                          group_id, refusal, context=context)
                raise exception.Refused(refusal) from None
            return
        now = timeutils.utcnow()
        placed = group.updated(host=pool.host,
                               cluster_name=pool.cluster_name,
                               updated_at=volume_rpcapi.ovo_datetime(now))
        rows = create_group_cast(placed).stage(self.outbox, context)
        self._commit(context, key, lambda: db.group_hand_off(
            context, group_id, pool.host, pool.cluster_name, now, rows,
            key), rows)
