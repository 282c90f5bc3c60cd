"""get_pools: the pools as Cinder's scheduler lists them, with its filters.

The reply is Cinder's (host_manager.py:HostManager.get_pools, reference
§5.1): one ``{"name": "host@backend#pool", "capabilities": {...}}`` per
pool of every backend that is up, the capabilities as the backend reported
them (never what was claimed since), completed with the backend-level
driver fields, ``timestamp`` the report's time.
"""

from typing import Any

from oslo_utils import strutils

from scheduler_worker import cinder_errors
from scheduler_worker import exception
from scheduler_worker.scheduler import hosts
from scheduler_worker.scheduler import request as request_mod

# NOTE: what BackendState._append_backend_info copies from the backend
# level into a pool that lacks it, and what it always copies.
_BACKEND_INFO = ('volume_backend_name', 'storage_protocol', 'vendor_name',
                 'driver_version')
_ALWAYS = ('filter_function', 'goodness_function')
# NOTE: cinder/common/constants.py: a pool reporting one of these has
# the whole list as its storage_protocol.
_PROTOCOL_VARIANTS = (['iSCSI', 'iscsi'], ['FC', 'fibre_channel', 'fc'],
                      ['NFS', 'nfs'], ['NVMe-oF', 'NVMeOF', 'nvmeof'])
TIMESTAMP_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'


def _protocol(value: Any) -> Any:
    for variants in _PROTOCOL_VARIANTS:
        if value in variants:
            return list(variants)
    return value


def reported(pool: dict[str, Any]) -> dict[str, Any]:
    """A pool row's capabilities as Cinder's PoolState holds them.

    Our rows keep the backend's fields overlaid with the pool's; the
    backend's other fields are left out again, as Cinder keeps only the
    pool's own, plus the driver fields.
    """
    backend = pool['backend']
    backend_caps = backend['capabilities']
    merged = pool['capabilities']
    caps = {key: value for key, value in merged.items()
            if key not in backend_caps or backend_caps[key] != value}
    for key in _BACKEND_INFO:
        if caps.get(key) is None and key in backend_caps:
            caps[key] = backend_caps[key]
    for key in _ALWAYS:
        caps[key] = backend_caps.get(key, merged.get(key))
    if 'storage_protocol' in caps:
        caps['storage_protocol'] = _protocol(caps['storage_protocol'])
    caps['timestamp'] = backend['reported_at'].strftime(TIMESTAMP_FORMAT)
    return caps


def name(pool: dict[str, Any]) -> str:
    """``cluster@backend#pool`` for a clustered backend, else its host."""
    cluster = pool['backend'].get('cluster_name')
    return hosts.append_host(cluster, pool['name']) if cluster \
        else pool['host']


def equal_after_convert(capability: Any, value: Any) -> bool:
    """Cinder's HostManager._equal_after_convert."""
    if isinstance(value, type(capability)) or capability is None:
        return value == capability
    if isinstance(capability, bool):
        return capability == strutils.bool_from_string(value)
    return str(value) == str(capability)


def listed(pools: list[dict[str, Any]],
           filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply for these (up) pools, filtered by name and capabilities.

    ``filters`` is without ``volume_type``, which the caller applies.
    """
    filters = dict(filters)
    wanted = filters.pop('name', None)
    result = []
    for pool in pools:
        entry = {'name': name(pool), 'capabilities': reported(pool)}
        if wanted is not None and entry['name'] != wanted:
            continue
        if all(equal_after_convert(entry['capabilities'].get(key), value)
               for key, value in filters.items()):
            result.append(entry)
    return result


def get_pools(context, scheduler, filters: Any,
              volume_types=None) -> list[dict[str, Any]]:
    """Cinder's get_pools reply for these filters (None: every pool).

    ``volume_types(context, name_or_id)`` returns the volume type (a dict
    with ``extra_specs``) or None; without it no type is known. The pools
    a type keeps are those the filters pass for it, any size: Cinder runs
    its filters without a size too, but fails on numeric capacities
    (reference §5.2).
    """
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise exception.Invalid(reason='filters must be an object, not %s'
                                % type(filters).__name__)
    filters = dict(filters)
    type_name = filters.pop('volume_type', None)
    up = [pool for pool in scheduler.pools(context) if pool.is_up]
    if type_name is not None:
        volume_type = volume_types(context, type_name) \
            if volume_types is not None else None
        if volume_type is None:
            raise cinder_errors.VolumeTypeNotFoundByName(
                volume_type_name=type_name)
        request = request_mod.VolumeRequest(context, size=0,
                                            volume_type=volume_type)
        try:
            up = scheduler.candidates(context, request, pools=up)
        except exception.NoValidBackend:
            up = []
    return listed([pool.row for pool in up], filters)
