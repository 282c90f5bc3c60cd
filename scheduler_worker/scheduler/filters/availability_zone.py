"""AvailabilityZoneFilter: pools in the zone the volume asks for."""

from scheduler_worker.scheduler import filters
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod


class AvailabilityZoneFilter(filters.BaseFilter):
    """Passes pools in one of the requested zones (any, if none asked)."""

    def backend_passes(self, pool: pool_state.PoolState,
                       request: request_mod.VolumeRequest) -> bool:
        zones = request.availability_zones
        return not zones or pool.availability_zone in zones

    def explain(self, pools: list[pool_state.PoolState],
                request: request_mod.VolumeRequest) -> str:
        known = sorted({pool.availability_zone for pool in pools})
        return 'No backend in availability zone %s (known zones: %s)' % (
            ' or '.join('"%s"' % zone for zone in
                        request.availability_zones),
            ', '.join(known) or 'none')
