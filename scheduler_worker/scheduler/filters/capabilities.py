"""CapabilitiesFilter: pools meeting the volume type's extra specs.

As Cinder's: a key without scope (``volume_backend_name``) or in the
``capabilities:`` scope is looked up in the pool's capabilities (the
pool's report, backend values filled in; ``a:b`` looks up nested values);
keys in other scopes (``provisioning:type``, vendor scopes) are ignored.
Values use Cinder's operators (see extra_specs_ops). An extend of a volume
that is not detached passes only pools that do not report
``online_extend_support`` False, as Cinder's filter.
"""

from typing import Any

from scheduler_worker.scheduler import filters
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod
from scheduler_worker.scheduler.filters import extra_specs_ops

_MISSING = object()


def _lookup(capabilities: dict[str, Any], path: list[str]) -> Any:
    """The nested capability at ``path``; _MISSING if not reported."""
    value: Any = capabilities
    for part in path:
        try:
            value = value[part]
        except (TypeError, KeyError, IndexError):
            return _MISSING
    return value


def satisfies(capabilities: dict[str, Any], key: str,
              requirement: str) -> bool:
    """Whether one extra spec is met (out-of-scope keys always are)."""
    scope = key.split(':')
    if len(scope) > 1 and scope[0] != 'capabilities':
        return True
    if scope[0] == 'capabilities':
        scope = scope[1:]
    value = _lookup(capabilities, scope)
    if value is _MISSING:
        return False
    values = value if isinstance(value, list) else [value]
    return any(extra_specs_ops.match(v, requirement) for v in values)


def refuses_online_extend(capabilities: dict[str, Any],
                          request: request_mod.VolumeRequest) -> bool:
    """Whether the request extends an attached volume on a pool that
    cannot (Cinder: every backend can unless it reports False)."""
    spec = request.request_spec
    if spec.get('operation') != 'extend_volume' or \
            capabilities.get('online_extend_support', True) is not False:
        return False
    properties = spec.get('volume_properties')
    attach_status = properties.get('attach_status') if isinstance(
        properties, dict) else None
    return attach_status != 'detached'


class CapabilitiesFilter(filters.BaseFilter):
    """Passes pools that meet every extra spec of the volume type."""

    def backend_passes(self, pool: pool_state.PoolState,
                       request: request_mod.VolumeRequest) -> bool:
        if refuses_online_extend(pool.capabilities, request):
            return False
        return all(satisfies(pool.capabilities, key, requirement)
                   for key, requirement in request.extra_specs.items())

    def explain(self, pools: list[pool_state.PoolState],
                request: request_mod.VolumeRequest) -> str:
        if pools and all(refuses_online_extend(pool.capabilities, request)
               for pool in pools):
            return ('The backend does not support extending an attached '
                    'volume (online_extend_support is False)')
        specs = request.extra_specs
        unmet = ['%s=%s' % (key, requirement)
                 for key, requirement in sorted(specs.items())
                 if not any(satisfies(pool.capabilities, key, requirement)
                            for pool in pools)]
        name = request.volume_type.get('name') or \
            request.volume_type.get('id') or '(unnamed)'
        if unmet:
            return ('No backend meets the extra specs of volume type "%s": '
                    '%s' % (name, ', '.join(unmet)))
        return ('No single backend meets every extra spec of volume type '
                '"%s" (%s)' % (name, ', '.join(
                    '%s=%s' % item for item in sorted(specs.items()))))
