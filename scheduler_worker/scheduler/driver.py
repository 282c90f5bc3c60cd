"""The filter scheduler: which pools may hold a volume, best first.

Pools come from the database with the capacity every worker has claimed;
placing reads them at most every [scheduler] pool_cache_seconds, counting
what this process claimed since (see pools()). Filters drop the pools that
cannot take the volume; weighers order the rest. The claim that makes the
choice stick is the caller's (volumes.VolumeCreator), in the transaction
that stores the batch.
"""

import logging
import threading
import time
from typing import Any

from oslo_config import cfg

from scheduler_worker import exception
from scheduler_worker.db import api as db
from scheduler_worker.scheduler import filters
from scheduler_worker.scheduler import hosts
from scheduler_worker.scheduler import pool_state
from scheduler_worker.scheduler import request as request_mod
from scheduler_worker.scheduler import weighers

LOG = logging.getLogger(__name__)


class FilterScheduler:
    """Filters and weighers from [scheduler] default_filters / _weighers."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.filters = filters.load(conf, conf.scheduler.default_filters)
        self.weighers = weighers.load(conf, conf.scheduler.default_weighers)
        self.down_time = conf.scheduler.backend_down_time
        self.default_ratio = conf.scheduler.max_over_subscription_ratio
        self.cache_seconds = conf.scheduler.pool_cache_seconds
        self._lock = threading.Lock()
        # NOTE: (monotonic time read, rows), rows as pool_get_all gave
        # them plus what this process claimed since.
        self._cached: tuple[float, list[dict[str, Any]]] | None = None

    def pools(self, context, cached: bool = False
              ) -> list[pool_state.PoolState]:
        """Every live pool, up or down, as the database has it now.

        With ``cached`` (placing volumes), as it had it at most
        ``pool_cache_seconds`` ago, with what this process claimed since
        (claimed()): a lone cast then costs no pools read. Other workers'
        claims may be missing; the claim in the storing transaction is the
        guard, and a lost one makes the caller forget_pools().
        """
        if cached and self.cache_seconds > 0:
            rows = self._cached_rows(context)
        else:
            rows = db.pool_get_all(context)
        return [pool_state.PoolState(row, self.down_time, self.default_ratio)
                for row in rows]

    def _cached_rows(self, context) -> list[dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or \
                    now - self._cached[0] >= self.cache_seconds:
                self._cached = (now, db.pool_get_all(context))
            # NOTE: PoolState copies what a batch changes (allocated_gb);
            # the rows themselves are only read.
            return self._cached[1]

    def claimed(self, claims: list[dict[str, Any]]) -> None:
        """The claims (pool_id, size) this process just committed: counted
        in the cached pools, so that the next batches spread as a fresh
        read would."""
        sizes: dict[Any, int] = {}
        for claim in claims:
            sizes[claim['pool_id']] = sizes.get(claim['pool_id'], 0) + \
                claim['size']
        with self._lock:
            for row in self._cached[1] if self._cached else ():
                if row['id'] in sizes:
                    row['allocated_gb'] = (row['allocated_gb'] or 0) + \
                        sizes[row['id']]

    def forget_pools(self) -> None:
        """The next placing reads the pools from the database."""
        with self._lock:
            self._cached = None

    def candidates(self, context, request: request_mod.VolumeRequest,
                   pools: list[pool_state.PoolState] | None = None
                   ) -> list[pool_state.PoolState]:
        """Pools that pass every filter, heaviest first.

        ``pools`` (default: read now) lets a batch read them once. Raises
        NoValidBackend, with a reason a user can act on, when none passes.
        """
        if pools is None:
            pools = self.pools(context)
        pools = self._eligible(pools, request)
        for backend_filter in self.filters:
            passed = backend_filter.filter_all(pools, request)
            if not passed:
                raise exception.NoValidBackend(
                    reason=backend_filter.explain(pools, request))
            pools = passed
        ordered = weighers.order(self.weighers, pools, request)
        LOG.debug('Candidates for %s GiB: %s', request.size,
                  ', '.join('%s (%.3f)' % (p.host, w) for w, p in ordered))
        return [pool for _, pool in ordered]

    @staticmethod
    def _eligible(pools, request) -> list[pool_state.PoolState]:
        """The pools of the requested host, if any, that are up."""
        if request.host:
            pools = [p for p in pools if hosts.matches(p.host, request.host)]
            if not pools:
                raise exception.NoValidBackend(
                    reason='Backend %s is not known: no volume service '
                           'reported it' % request.host)
        if not pools:
            raise exception.NoValidBackend(
                reason='No backend has reported its capabilities yet')
        if request.excluded:
            pools = [p for p in pools if not any(
                hosts.matches(p.host, tried) for tried in request.excluded)]
            if not pools:
                raise exception.NoValidBackend(
                    reason='Every backend was tried already: %s'
                    % ', '.join(request.excluded))
        up = [p for p in pools if p.is_up]
        if not up:
            raise exception.NoValidBackend(
                reason='%s is down: no capability report for too long'
                % (request.host or 'Every backend'))
        return up
