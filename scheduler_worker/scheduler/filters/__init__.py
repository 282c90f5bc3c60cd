"""Filters: which pools can hold a volume. Loaded by name with stevedore.

A filter is a class registered in the entry point namespace
``scheduler_worker.scheduler.filters``, built with the configuration. It
answers ``backend_passes(pool, request)`` for each pool (as Cinder's
filters do), and says in ``explain()`` why no pool passed, in words a user
can act on: that sentence becomes the reason of NoValidBackend.
"""

from oslo_config import cfg

from scheduler_worker.scheduler import plugins
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod

NAMESPACE = 'scheduler_worker.scheduler.filters'


class BaseFilter:
    """A filter of pools; subclasses implement backend_passes()."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def backend_passes(self, pool: pool_state.PoolState,
                       request: request_mod.VolumeRequest) -> bool:
        """Whether ``pool`` (a PoolState) can hold the requested volume."""
        raise NotImplementedError()

    def filter_all(self, pools: list[pool_state.PoolState],
                   request: request_mod.VolumeRequest) -> list:
        return [pool for pool in pools if self.backend_passes(pool, request)]

    def explain(self, pools: list[pool_state.PoolState],
                request: request_mod.VolumeRequest) -> str:
        """Why none of ``pools`` passed."""
        return 'No backend passed the %s' % type(self).__name__


def load(conf: cfg.ConfigOpts, names: list[str]) -> list[BaseFilter]:
    """The named filters, in the order given; an unknown name raises."""
    return plugins.load(NAMESPACE, conf, names)
