"""A capability report, read as Cinder reads it: pools, capacities, limits.

Volume services report what their backend can hold (Cinder's
``get_volume_stats``): per pool ``total_capacity_gb``, ``free_capacity_gb``
(numbers, or 'infinite' / 'unknown'), ``reserved_percentage``,
``allocated_capacity_gb``, ``provisioned_capacity_gb``,
``thin_provisioning_support``, ``max_over_subscription_ratio`` (a number, a
numeric string or 'auto'), and anything else as free-form capabilities.

From each report we derive two *limits* per pool: how many GiB of volumes
the pool may hold in all, for thick and for thin volumes. Volumes claim
their size against these limits in the database (see db.api.volume_create),
and reports never touch the claims. The limits therefore count only what
the report says is used by something *other* than Cinder volumes::

    used_other = max(0, total - free - allocated_capacity_gb)
    physical   = total - floor(total * reserved%) - used_other
    virtual    = total * ratio - floor(total * reserved%)
                 - max(0, provisioned_capacity_gb - allocated_capacity_gb)

``virtual`` applies to pools with thin provisioning (``physical``
otherwise). A report taken before or after the backend created the volumes
we placed gives the same limits, since creating a volume moves its size
from ``free`` to ``allocated_capacity_gb``: claims are neither lost nor
counted twice, however many reports arrive. 'infinite' or 'unknown' free
capacity means no limit (NULL), as Cinder lets such pools pass.
"""

import math
from typing import Any

from oslo_utils import strutils

from scheduler_worker.scheduler import hosts

INFINITE_UNKNOWN = ('infinite', 'unknown')
# NOTE: Cinder's ratio for 'auto' when nothing is provisioned yet
# (volume_utils.DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO).
AUTO_RATIO_WHEN_EMPTY = 20.0
MAX_HOST = 255


def capacity(value: Any, default: float = 0.0) -> float | str:
    """A reported capacity in GiB, or 'infinite' / 'unknown'.

    Missing or unreadable values count as ``default`` (Cinder's PoolState
    takes 0), so that a broken report makes a pool full, not limitless.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in INFINITE_UNKNOWN:
            return text
        value = text
    return number(value, default)


def number(value: Any, default: float = 0.0) -> float:
    """A finite number from an int, a float or a numeric string."""
    if isinstance(value, bool) or value is None:
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def boolean(value: Any) -> bool:
    """Drivers report booleans as JSON booleans or as 'True' / 'False'."""
    if isinstance(value, str):
        return strutils.bool_from_string(value)
    return bool(value)


def over_subscription_ratio(caps: dict[str, Any],
                            default: str | float) -> float:
    """Cinder's calculate_max_over_subscription_ratio, for one pool."""
    if not boolean(caps.get('thin_provisioning_support', False)):
        return 1.0
    total = capacity(caps.get('total_capacity_gb'))
    free = capacity(caps.get('free_capacity_gb'))
    if total in INFINITE_UNKNOWN or free in INFINITE_UNKNOWN:
        return 1.0
    ratio = caps.get('max_over_subscription_ratio') or default
    if str(ratio).strip().lower() != 'auto':
        return number(ratio, number(default, AUTO_RATIO_WHEN_EMPTY))
    allocated = number(caps.get('allocated_capacity_gb'))
    provisioned = number(caps.get('provisioned_capacity_gb'), allocated)
    if provisioned == 0:
        return AUTO_RATIO_WHEN_EMPTY
    return 1 + provisioned / ((total - free) + 1)


def limits(caps: dict[str, Any],
           default_ratio: str | float) -> tuple[int | None, int | None]:
    """(physical, virtual) GiB the pool's volumes may claim; None: no limit.

    See the module docstring for the formulas.
    """
    total = capacity(caps.get('total_capacity_gb'))
    free = capacity(caps.get('free_capacity_gb'))
    reserved = number(caps.get('reserved_percentage')) / 100
    if free in INFINITE_UNKNOWN:
        return None, None
    if total in INFINITE_UNKNOWN:
        # NOTE: as Cinder: no limit, unless a reserve is asked for, which
        # cannot be computed from an unknown total.
        return (None, None) if reserved == 0 else (0, 0)
    if total <= 0:
        return 0, 0
    reserved_gb = math.floor(total * reserved)
    allocated = max(0.0, number(caps.get('allocated_capacity_gb')))
    used_other = max(0.0, total - free - allocated)
    physical = total - reserved_gb - used_other
    virtual = physical
    if boolean(caps.get('thin_provisioning_support', False)):
        ratio = over_subscription_ratio(caps, default_ratio)
        provisioned = number(caps.get('provisioned_capacity_gb'), allocated)
        virtual = (total * ratio - reserved_gb -
                   max(0.0, provisioned - allocated)) if ratio >= 1 else 0
    return max(0, math.floor(physical)), max(0, math.floor(virtual))


def problems(host: Any, capabilities: Any) -> list[str]:
    """What makes a report unusable; empty when it can be stored."""
    if not isinstance(host, str) or not host or len(host) > MAX_HOST:
        return ['host must be a string of 1 to %d characters' % MAX_HOST]
    if '#' in host or any(ord(c) < 32 for c in host):
        return ['host must not contain "#" or control characters']
    if not isinstance(capabilities, dict):
        return ['capabilities must be an object, not %s'
                % type(capabilities).__name__]
    found = _zone_problems(capabilities)
    pools = capabilities.get('pools')
    if pools is None:
        return found
    if not isinstance(pools, list) or not all(
            isinstance(p, dict) for p in pools):
        return ['pools must be a list of objects']
    names = [p.get('pool_name') for p in pools]
    for pool in pools:
        found.extend(_zone_problems(pool))
    for name in names:
        if not isinstance(name, str) or not name or '#' in name:
            found.append('pool_name %r must be a non-empty string without '
                         '"#"' % (name,))
        elif len(hosts.append_host(host, name)) > MAX_HOST:
            found.append('pool %s@%s is longer than %d characters'
                         % (host, name, MAX_HOST))
    # NOTE: compared without case, as MySQL's unique index compares them.
    if len({str(name).lower() for name in names}) != len(names):
        found.append('pool names must be unique')
    return found


def _zone_problems(caps: dict[str, Any]) -> list[str]:
    zone = caps.get('availability_zone')
    if zone is None or (isinstance(zone, str) and 0 < len(zone) <= 255):
        return []
    return ['availability_zone must be a string of 1 to 255 characters']


def pool_records(host: str, capabilities: dict[str, Any],
                 default_availability_zone: str,
                 default_ratio: str | float) -> list[dict[str, Any]]:
    """The pools of a (checked) report, as db.api.backend_report takes them.

    A report without ``pools`` describes a single pool named after
    ``volume_backend_name`` (or '_pool0'), as in Cinder. Each pool's
    capabilities are the backend's overlaid with the pool's own.
    """
    backend_caps = {k: v for k, v in capabilities.items() if k != 'pools'}
    reported = capabilities.get('pools')
    if reported is None:
        name = capabilities.get('volume_backend_name') or \
            hosts.extract_host(host, 'pool', default_pool_name=True)
        reported = [{'pool_name': str(name)}]
    records = []
    for pool in reported:
        caps = dict(backend_caps, **pool)
        physical, virtual = limits(caps, default_ratio)
        zone = caps.get('availability_zone')
        records.append({
            'name': pool['pool_name'],
            'host': hosts.append_host(host, pool['pool_name']),
            'availability_zone': zone if isinstance(zone, str) and zone
            else default_availability_zone,
            'capabilities': caps,
            'physical_limit_gb': physical,
            'virtual_limit_gb': virtual,
            'allocated_gb': math.ceil(max(0.0, number(
                caps.get('allocated_capacity_gb')))),
        })
    return records
