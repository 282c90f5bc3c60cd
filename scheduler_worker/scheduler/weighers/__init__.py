"""Weighers: which of the pools that passed the filters is best.

A weigher is a class registered in the entry point namespace
``scheduler_worker.scheduler.weighers``, built with the configuration. As
in Cinder, each weigher's raw weights are normalized to 0..1 over the
candidates, multiplied by its weight_multiplier(), and summed; the
heaviest pool is tried first.
"""

from oslo_config import cfg

from scheduler_worker.scheduler import plugins
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod

NAMESPACE = 'scheduler_worker.scheduler.weighers'


class BaseWeigher:
    """A weigher of pools; subclasses implement _weigh_object()."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def weight_multiplier(self) -> float:
        return 1.0

    def weigh_objects(self, pools: list[pool_state.PoolState],
                      request: request_mod.VolumeRequest) -> list[float]:
        """Raw weights of ``pools``, in their order."""
        return [self._weigh_object(pool, request) for pool in pools]

    def _weigh_object(self, pool: pool_state.PoolState,
                      request: request_mod.VolumeRequest) -> float:
        raise NotImplementedError()


def normalize(weights: list[float]) -> list[float]:
    """Scale to 0..1 (all 0 when they are equal), as Cinder does."""
    if not weights:
        return []
    low, high = min(weights), max(weights)
    if low == high:
        return [0.0] * len(weights)
    return [(w - low) / (high - low) for w in weights]


def order(weighers: list[BaseWeigher], pools: list[pool_state.PoolState],
          request: request_mod.VolumeRequest
          ) -> list[tuple[float, pool_state.PoolState]]:
    """(weight, pool) pairs, heaviest first; ties keep the pools' order."""
    totals = [0.0] * len(pools)
    for weigher in weighers:
        multiplier = weigher.weight_multiplier()
        for i, weight in enumerate(normalize(
                weigher.weigh_objects(pools, request))):
            totals[i] += multiplier * weight
    return sorted(zip(totals, pools, strict=True),
                  key=lambda item: -item[0])


def load(conf: cfg.ConfigOpts, names: list[str]) -> list[BaseWeigher]:
    """The named weighers; an unknown name raises."""
    return plugins.load(NAMESPACE, conf, names)
