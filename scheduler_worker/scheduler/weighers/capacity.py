"""CapacityWeigher: prefer the pool with the most unclaimed capacity.

Cinder's CapacityWeigher weighs the virtual free capacity of thin pools
(total x ratio - provisioned - reserve) and the free capacity of others
(free - reserve); here the same quantities are the pool's limits minus
what every worker has claimed so far. 'infinite' and 'unknown' pools weigh
least with a positive multiplier, most with a negative one, as in Cinder.
"""

import math

from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod
from scheduler_worker.scheduler import weighers


class CapacityWeigher(weighers.BaseWeigher):

    def weight_multiplier(self) -> float:
        return self.conf.scheduler.capacity_weight_multiplier

    def weigh_objects(self, pools: list[pool_state.PoolState],
                      request: request_mod.VolumeRequest) -> list[float]:
        weights = super().weigh_objects(pools, request)
        finite = [w for w in weights if not math.isinf(w)]
        top = max(finite) + 1 if finite else 1.0
        return [top if math.isinf(w) else w for w in weights]

    def _weigh_object(self, pool: pool_state.PoolState,
                      request: request_mod.VolumeRequest) -> float:
        available = pool.available_gb(request.thick)
        if available is None:
            return -1.0 if self.weight_multiplier() > 0 else math.inf
        return float(available)
