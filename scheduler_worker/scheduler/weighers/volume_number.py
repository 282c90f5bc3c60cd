"""VolumeNumberWeigher: prefer the pool holding fewer volumes.

Counts live volumes (not deleted, not in error) per pool in the volumes
table, so it sees what every worker placed. With the default negative
multiplier, fewer volumes weigh more (spreading), as in Cinder.
"""

from scheduler_worker.db import api as db
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod
from scheduler_worker.scheduler import weighers


class VolumeNumberWeigher(weighers.BaseWeigher):

    def weight_multiplier(self) -> float:
        return self.conf.scheduler.volume_number_multiplier

    def weigh_objects(self, pools: list[pool_state.PoolState],
                      request: request_mod.VolumeRequest) -> list[float]:
        counts = db.volume_count_by_host(request.context,
                                         [pool.host for pool in pools])
        return [float(counts[pool.host]) for pool in pools]
