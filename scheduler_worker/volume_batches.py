"""Creating the volumes of many casts at once: one transaction per batch.

A batch reads the pools once, places each volume in memory (counting what
the batch itself takes), claims each pool's share with one conditional
update, inserts every volume with its notification in bulk, and commits
once; then the notifications go out together. Anything off the common
path (a refused request, a lost claim, a redelivered cast whose volume
exists, no room) falls back to VolumeCreator, one volume at a time, which
records and reports it exactly as for a single cast.
"""

import collections
from typing import Any

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils

from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import volumes
from scheduler_worker.db import api as db

LOG = logging.getLogger(__name__)

# NOTE: what a request can end in that is its own outcome (recorded and
# reported already), as opposed to a failure of the worker.
REFUSED = (exception.Invalid, exception.NoValidBackend)


class BatchCreator:
    """VolumeCreator, for the casts of one batch."""

    def __init__(self, creator: volumes.VolumeCreator) -> None:
        self.creator = creator

    def create(self, requests: list[tuple[Any, Any, Any]]
               ) -> list[BaseException | None]:
        """Create the volume of each (context, volume, request_spec).

        Returns, per request, None when its volume is stored or the
        exception that refused it (recorded and reported). Raises what
        the whole batch cannot get past (the database down).
        """
        outcomes: list[BaseException | None] = [None] * len(requests)
        prepared = []
        for i, (context, volume, request_spec) in enumerate(requests):
            try:
                prepared.append(
                    (i, self.creator.prepare(context, volume, request_spec)))
            except REFUSED as exc:
                outcomes[i] = exc
        for i, item in self._store(prepared) if prepared else []:
            try:
                self.creator.place(item)
            except REFUSED as exc:
                outcomes[i] = exc
        return outcomes

    def _store(self, prepared) -> list:
        """Store what the batch can; return what needs one-by-one care."""
        try:
            stored, leftovers = self._store_in_one_transaction(prepared)
        except db_exc.DBDuplicateEntry:
            # NOTE: a redelivered cast in the batch: its volume exists.
            # One by one, it is told apart from the others.
            return prepared
        self.creator.outbox.publish(
            [row for _, _, rows in stored for row in rows])
        contexts = {i: item.context for i, item in prepared}
        for i, volume, _ in stored:
            volumes.log_created(contexts[i], volume)
        return leftovers

    @oslo_db_api.wrap_db_retry(max_retries=5, retry_interval=0.1,
                               retry_on_deadlock=True,
                               retry_on_disconnect=True, jitter=True)
    def _store_in_one_transaction(self, prepared):
        admin = sw_context.get_admin_context()
        placements, leftovers = self._plan(admin, prepared)
        while placements:
            try:
                return self._insert_and_claim(admin, placements), leftovers
            except _ShareLost as lost:
                # NOTE: the pool had less room than the batch read: those
                # volumes go one by one, to their next candidates.
                placements = [p for p in placements if p not in lost.share]
                leftovers.extend((i, item) for i, item, _ in lost.share)
        return [], leftovers

    def _insert_and_claim(self, admin, placements) -> list:
        """Insert the volumes, then claim their pools' shares; commit.

        The claims come last: a claim locks its pool's row until the
        commit, and every worker's batches wait for that lock.
        """
        stored = []
        with db.writer(admin):
            for i, item, pool in placements:
                values = dict(volumes.placed_values(item.values, pool),
                              created_at=timeutils.utcnow())
                values.setdefault('status', 'creating')
                volume = objects.Volume(context=item.context, **values)
                stored.append((i, volume, self.creator.outbox.stage(
                    item.context, notifications.CREATE_END, 'INFO',
                    notifications.volume_usage(volume))))
            db.volume_insert_many(
                admin, [v.obj_get_changes() for _, v, _ in stored],
                [row for _, _, rows in stored for row in rows])
            self._claim(admin, placements)
        return stored

    def _plan(self, admin, prepared) -> tuple[list, list]:
        """Each volume's first choice, counting what the batch takes."""
        pools = self.creator.scheduler.pools(admin)
        placements, leftovers = [], []
        for i, item in prepared:
            try:
                pool = self.creator.scheduler.candidates(
                    item.context, item.request, pools=pools)[0]
            except exception.NoValidBackend:
                leftovers.append((i, item))
                continue
            pool.allocated_gb += item.request.size
            placements.append((i, item, pool))
        return placements, leftovers

    @staticmethod
    def _claim(admin, placements) -> None:
        """Claim each pool's share with one conditional update.

        Pools are claimed in id order, so that two batches wait for each
        other's row locks instead of deadlocking. Raises _ShareLost for a
        pool without room for its share.
        """
        shares = collections.defaultdict(list)
        for placement in placements:
            _, item, pool = placement
            shares[(pool.id, item.request.thick)].append(placement)
        for (_, thick), share in sorted(shares.items()):
            pool = share[0][2]
            try:
                db.pool_claim(admin, pool.claim(
                    sum(item.request.size for _, item, _ in share), thick))
            except exception.CapacityClaimFailed:
                raise _ShareLost(share) from None


class _ShareLost(Exception):
    """A pool could not take the share the batch placed on it."""

    def __init__(self, share: list) -> None:
        super().__init__()
        self.share = share
