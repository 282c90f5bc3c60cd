"""AvailabilityZoneFilter: pools in the zone the volume asks for."""

from scheduler_worker.scheduler import filters


class AvailabilityZoneFilter(filters.BaseFilter):
    """Passes pools in one of the requested zones (any, if none asked)."""

    def backend_passes(self, pool, request) -> bool:
        zones = request.availability_zones
        return not zones or pool.availability_zone in zones

    def explain(self, pools, request) -> str:
        known = sorted({pool.availability_zone for pool in pools})
        return 'No backend in availability zone %s (known zones: %s)' % (
            ' or '.join('"%s"' % zone for zone in
                        request.availability_zones),
            ', '.join(known) or 'none')
