"""CapacityFilter: pools with room for the volume, all claims counted.

The same decisions as Cinder's CapacityFilter (reserved percentage, thin
provisioning under max_over_subscription_ratio, thick volumes on thin
pools, 'infinite' and 'unknown' capacities), made on the pool's limits
minus what volumes already claimed (see scheduler/capabilities.py) rather
than on a free capacity each scheduler decrements in its own memory.
"""

import logging
import math

from scheduler_worker.scheduler import capabilities
from scheduler_worker.scheduler import filters
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod

LOG = logging.getLogger(__name__)


class CapacityFilter(filters.BaseFilter):
    """Passes pools whose unclaimed capacity covers the volume's size."""

    def backend_passes(self, pool: pool_state.PoolState,
                       request: request_mod.VolumeRequest) -> bool:
        if request.exists_on is not None and \
                pool.cinder_backend_id == request.exists_on:
            # NOTE: as Cinder's vol_exists_on: the volume is there already
            # (a retype), so it needs no more room.
            return True
        size = request.size
        free, total = pool.free_capacity_gb, pool.total_capacity_gb
        if free in capabilities.INFINITE_UNKNOWN:
            # NOTE: as Cinder: such backends are assumed able to serve.
            return True
        if total in capabilities.INFINITE_UNKNOWN:
            # NOTE: a reserve cannot be computed from an unknown total.
            return pool.reserved_percentage == 0
        if total <= 0:
            return False
        if not request.thick and pool.thin_provisioning_support:
            ratio = pool.max_over_subscription_ratio
            if ratio < 1:
                LOG.warning('Pool %s reports an over-subscription ratio of '
                            '%.2f; it must be at least 1', pool.host, ratio)
                return False
            # NOTE: Cinder's second thin check: the reported free space,
            # over-subscribed, must still cover the volume.
            reserved_gb = math.floor(total * pool.reserved_percentage / 100)
            if (free - reserved_gb) * ratio < size:
                return False
        available = pool.available_gb(request.thick)
        return available is None or size <= available

    def explain(self, pools: list[pool_state.PoolState],
                request: request_mod.VolumeRequest) -> str:
        room = [(pool.available_gb(request.thick) or 0, pool.host)
                for pool in pools]
        most, host = max(room)
        return ('No backend has %d GiB of free capacity left (the most is '
                '%d GiB, on %s)' % (request.size, max(0, most), host))
