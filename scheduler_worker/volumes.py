"""Creating volumes from create_volume casts: one path for one or many.

A single cast is a batch of one. Each request is checked on its own
(_prepare: no side effect); then the batch reads the pools once, places
every volume in memory, counting what the batch itself takes (_plan), and
stores every outcome in one transaction (_commit): the placed volumes in
status ``creating`` with one capacity claim per pool, the refused ones in
status ``error``, each with its notification. After the commit the
notifications are published together.

Per request, the outcome is: stored; refused and recorded (volume in
error, ERROR notification), which needs a volume id; already stored (a
redelivery: no new row, no new notification); or, for the whole batch, a
temporary failure, raised. A request without a readable volume id is
poison: nothing can be recorded, and its exception is returned unreported
for the RPC server to reject and report. A claim lost to another worker
(the pools read were stale) places the batch again from fresh pool
states; a row the database refuses is found by storing the batch one by
one, and recorded in error with what the database takes.
"""

import collections
import dataclasses
from typing import Any
import uuid

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from scheduler_worker import cinder_messages
from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import validation
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import hosts
from scheduler_worker.scheduler import request as scheduler_request

# NOTE: oslo.log's adapter: a keyword such as volume_id=... becomes a field
# of the JSON log line ([DEFAULT] use_json), which operators search by.
LOG = logging.getLogger(__name__)

# NOTE: fixed forever: volume ids derived from message ids must map the
# same way in every release, or a redelivery would create a second volume.
_MESSAGE_ID_NAMESPACE = uuid.UUID('5a3b8a2c-7a0e-4c59-9f0a-3c1f3e1d2b6d')

# NOTE: how often a batch is placed again after losing a claim to another
# worker before it is handed back to the queue (TemporaryFailure): each
# loss means another transaction took room meanwhile, so the workers as a
# whole progress; a batch that keeps losing waits rather than spins.
MAX_PLANS = 5

# NOTE: what Cinder's failure notification reports of a refused volume.
_PROPERTIES = ('size', 'availability_zone', 'display_name',
               'display_description', 'user_id', 'project_id', 'status',
               'attach_status', 'volume_type_id', 'metadata')


def derived_volume_id(message_id: str) -> str:
    """The volume id of a cast that sent none: stable across redelivery."""
    return str(uuid.uuid5(_MESSAGE_ID_NAMESPACE, message_id))


@dataclasses.dataclass
class Request:
    """A decoded create_volume cast.

    ``refusal`` is what decoding found wrong with it (its context), if
    anything: the request is then refused, and recorded if it can be.
    """

    context: Any
    volume: Any = None
    request_spec: Any = None
    refusal: exception.Invalid | None = None
    filter_properties: Any = None


@dataclasses.dataclass(frozen=True)
class Mode:
    """What the creator does besides placing, decided by service.py.

    ``cinder``: the volumes are Cinder's rows (cinder-api inserted them):
    the placement is written onto them with the user message of a failure
    (db.api.volume_create_all, Cinder backend), and only Cinder's Volume
    objects are accepted. ``hand_off``: each placed volume is cast to its
    volume service, from the outbox (always on in Cinder mode).
    """

    cinder: bool = False
    hand_off: bool = False
    max_attempts: int = 1
    service_id: int | None = None


@dataclasses.dataclass
class _Item:
    """A checked request: what storing it, or its refusal, needs."""

    context: Any
    volume_id: str | None
    values: dict[str, Any]
    spec: dict[str, Any]
    properties: dict[str, Any]
    refusal: Exception | None = None
    request: scheduler_request.VolumeRequest | None = None
    volume: Any = None
    result: Exception | None = None
    primitive: primitives.Primitive | None = None
    raw_spec: Any = None
    filter_properties: dict[str, Any] | None = None
    attempt: int = 0

    @property
    def cast_key(self) -> str:
        """The key of this delivery in handled casts (Cinder mode)."""
        return 'create_volume:%s:%d' % (self.volume_id, self.attempt)


@dataclasses.dataclass
class _Placement:
    """What one plan does with an item: a pool, or a refusal."""

    item: _Item
    pool: Any = None
    refusal: Exception | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _with_owner(raw: dict[str, Any], properties: dict[str, Any],
                context) -> dict[str, Any]:
    """Fill user and project the way Cinder's own flow would.

    Cinder's casts leave them empty on the Volume and set them in the
    request spec's volume_properties; the context is the last resort.
    """
    raw = dict(raw)
    for key, fallback in (('user_id', context.user_id),
                          ('project_id', context.project_id)):
        if raw.get(key) is None:
            raw[key] = properties.get(key) or fallback
    return raw


def _volume_id(context, volume: Any) -> str | None:
    """The id a request's volume is recorded under; None: no volume."""
    data = primitives.volume_data(volume)
    if data is None:
        return None
    if data.get('id') is None:
        return (derived_volume_id(context.message_id) if context.message_id
                else uuidutils.generate_uuid())
    try:
        return validation.check_uuid('id', data['id'])
    except ValueError:
        return None


def _retry(filter_properties: Any) -> tuple[int, list[str]]:
    """(attempts made, backends tried) of a cast sent back for another
    attempt; (0, []) for a first one. Invalid when unreadable."""
    if filter_properties is None:
        return 0, []
    if not isinstance(filter_properties, dict):
        raise exception.Invalid(reason='filter_properties must be an '
                                'object, not %s'
                                % type(filter_properties).__name__)
    retry = filter_properties.get('retry')
    if retry is None:
        return 0, []
    if not isinstance(retry, dict):
        raise exception.Invalid(reason='filter_properties.retry must be '
                                'an object')
    attempts = retry.get('num_attempts', 0)
    backends = retry.get('backends') or []
    if isinstance(attempts, bool) or not isinstance(attempts, int) or \
            attempts < 0:
        raise exception.Invalid(reason='retry.num_attempts must be a '
                                'non-negative integer')
    if not isinstance(backends, list) or not all(
            isinstance(b, str) and b for b in backends):
        raise exception.Invalid(reason='retry.backends must be a list of '
                                'backend names')
    return attempts, backends


def _prepare(request: Request, max_size: int, mode: Mode) -> _Item:
    """Check a request; refusals are noted, not recorded yet."""
    context = request.context
    volume_id = _volume_id(context, request.volume)
    if mode.cinder and not (isinstance(request.volume, primitives.Primitive)
                            and request.volume.namespace ==
                            primitives.CINDER_NAMESPACE):
        # NOTE: nothing to record it on: Cinder's rows are cinder-api's,
        # and the hand-off needs Cinder's Volume object.
        return _Item(context, None, {}, {}, {}, result=exception.InvalidVolume(
            reason="in Cinder mode create_volume takes Cinder's Volume "
                   "object (as cinder-api casts it), not %s"
                   % ('a plain dict' if isinstance(request.volume, dict)
                      else 'this object')))
    item = _Item(context, volume_id, {'id': volume_id}, {}, {},
                 refusal=request.refusal, raw_spec=request.request_spec)
    if isinstance(request.volume, primitives.Primitive):
        item.primitive = request.volume
    try:
        item.attempt, tried = _retry(request.filter_properties)
        item.filter_properties = request.filter_properties
        item.spec = primitives.request_spec_fields(request.request_spec)
        item.properties = _dict(item.spec.get('volume_properties'))
        raw = _with_owner(primitives.volume_fields(request.volume),
                          item.properties, context)
    except exception.Invalid as exc:
        item.refusal = item.refusal or exc
        return item
    values, problems = validation.check_volume(raw, max_size)
    item.values = dict(values, id=volume_id)
    if problems and item.refusal is None:
        item.refusal = exception.InvalidVolume(reason='; '.join(problems))
    if item.refusal is None and mode.max_attempts > 1 and \
            item.attempt + 1 > mode.max_attempts:
        # NOTE: Cinder's _populate_retry, word for word.
        item.refusal = exception.NoValidBackend(
            reason='Exceeded max scheduling attempts %d for resource %s'
            % (mode.max_attempts, volume_id))
    if item.refusal is None:
        item.request = scheduler_request.VolumeRequest.from_cast(
            context, item.values, raw, item.spec, excluded=tried)
    return item


def _log_duplicate(item: _Item) -> None:
    LOG.info('Volume %s already exists: duplicate delivery, nothing to do',
             item.volume_id, volume_id=item.volume_id, context=item.context)
    item.result = None


def log_created(context, volume) -> None:
    """The line an operator greps for: one per volume, with its request."""
    LOG.info('Created volume %s (%s GiB) on host %s', volume.id,
             volume.size, volume.host or '-', volume_id=volume.id,
             context=context)


class VolumeCreator:
    """Turns create_volume casts into volume rows and notifications."""

    def __init__(self, outbox: notifications.Outbox, max_size: int,
                 scheduler: driver.FilterScheduler,
                 mode: Mode = Mode()) -> None:
        self.outbox = outbox
        self.max_size = max_size
        self.scheduler = scheduler
        self.mode = mode

    def create(self, requests: list[Request]) -> list[Exception | None]:
        """Create the volume of each request, all in one transaction.

        Returns, per request: None when its volume is stored (now or by
        an earlier delivery); Refused when it was refused, recorded and
        reported; the Invalid exception when nothing could be recorded
        (poison, not reported). Raises what the whole batch cannot get
        past: a temporary database failure, TemporaryFailure.
        """
        items = [_prepare(request, self.max_size, self.mode)
                 for request in requests]
        recordable, again = {}, []
        for item in items:
            if item.volume_id is None:
                item.result = item.result or item.refusal
            elif item.volume_id in recordable:
                # NOTE: the same cast twice in one fetch (a client's
                # retried publish): the first one is its outcome.
                again.append(item)
            else:
                recordable[item.volume_id] = item
        if recordable:
            self._store_isolating(list(recordable.values()))
        for item in again:
            _log_duplicate(item)
        return [item.result for item in items]

    def _store_isolating(self, items: list[_Item]) -> None:
        """Store a batch; if the database refuses it, one by one."""
        try:
            self._store(items)
        except (db_exc.DBError, db_exc.DBInvalidUnicodeParameter) as exc:
            if db.is_temporary(exc):
                raise
            if len(items) == 1:
                self._store_refused_by_database(items[0], exc)
                return
            LOG.warning('The database refused a batch of %d volumes (%s); '
                        'storing them one by one', len(items),
                        type(exc).__name__)
            for item in items:
                self._store_isolating([item])

    def _store_refused_by_database(self, item: _Item,
                                   exc: Exception) -> None:
        LOG.error('Database refused volume %s: %s', item.volume_id, exc,
                  volume_id=item.volume_id, context=item.context)
        item.refusal = exception.InvalidVolume(
            reason='the database refused it (%s)' % type(exc).__name__)
        item.request = None
        # NOTE: the values themselves may be what the database refuses;
        # the id and status alone still tell the user.
        try:
            self._store([item])
        except (db_exc.DBError, db_exc.DBInvalidUnicodeParameter) as again:
            if db.is_temporary(again):
                raise
            item.values = {'id': item.volume_id}
            self._store([item])

    def _store(self, items: list[_Item]) -> None:
        """Place and store the items in one transaction; set their result.

        A lost claim places them again from fresh pool states; an id found
        taken (a redelivery, or another worker on the same cast) leaves
        that item out as already stored.
        """
        admin = sw_context.get_admin_context()
        taken: set[str] = set()
        gone: set[str] = set()
        for _ in range(MAX_PLANS):
            plan = self._plan(admin, [i for i in items
                                      if i.volume_id not in taken | gone])
            try:
                rows = self._commit(admin, plan) if plan else []
            except exception.CapacityClaimFailed as exc:
                LOG.info('%s Placing %d volumes again.', exc, len(plan))
                self.scheduler.forget_pools()
                continue
            except db_exc.DBDuplicateEntry:
                if not self.mode.cinder:
                    taken = db.volume_get_existing(
                        admin, [item.volume_id for item in items])
                elif len(plan) == 1:
                    taken.add(plan[0].item.volume_id)
                else:
                    # NOTE: Cinder's rows all exist: which cast was handled
                    # already, only storing them one by one tells.
                    for item in items:
                        self._store([item])
                    return
                continue
            except exception.VolumeNotFound as exc:
                # NOTE: deleted through Cinder's API before it was placed:
                # nothing to place, record or hand over.
                gone.add(exc.kwargs.get('volume_id'))
                continue
            self._settled(plan, [i for i in items if i.volume_id in taken])
            self._forget(items, gone)
            self.outbox.publish(rows)
            return
        raise exception.TemporaryFailure(
            reason='other workers took the room of the pools chosen, or '
                   'ids of this batch, %d times in a row' % MAX_PLANS)

    @staticmethod
    def _forget(items: list[_Item], gone: set[str]) -> None:
        for item in items:
            if item.volume_id in gone:
                LOG.warning('Volume %s was deleted before it was placed; '
                            'nothing to do', item.volume_id,
                            volume_id=item.volume_id, context=item.context)
                item.result = None

    def _plan(self, admin, items: list[_Item]) -> list[_Placement]:
        """Each volume's first choice, counting what the batch takes."""
        placing = [item for item in items if item.refusal is None]
        pools = self.scheduler.pools(admin, cached=True) if placing else []
        plan = []
        for item in items:
            if item.refusal is not None:
                plan.append(_Placement(item, refusal=item.refusal))
                continue
            try:
                pool = self.scheduler.candidates(item.context, item.request,
                                                 pools=pools)[0]
            except exception.NoValidBackend as exc:
                plan.append(_Placement(item, refusal=exc))
                continue
            pool.allocated_gb += item.request.size
            plan.append(_Placement(item, pool=pool))
        return plan

    def _commit(self, admin, plan: list[_Placement]) -> list[dict]:
        """Store a plan in one transaction; return its outbox rows."""
        now = timeutils.utcnow()
        volumes, outbox, messages = [], [], []
        shares: collections.Counter = collections.Counter()
        for placement in plan:
            item, pool = placement.item, placement.pool
            if pool is not None:
                values = dict(item.values, host=pool.host, scheduled_at=now,
                              cluster_name=hosts.append_host(
                                  pool.cluster_name, pool.pool_name),
                              availability_zone=self._zone(item, pool))
                shares[(pool.id, pool.host, item.request.thick)] += \
                    item.request.size
            else:
                values = dict(item.values, status='error')
                messages.append(cinder_messages.create_volume_failed(
                    item.context, item.volume_id, placement.refusal))
            volume = objects.Volume.new(item.context, created_at=now,
                                        **values)
            volumes.append(volume)
            outbox.extend(self._notification(placement, volume))
            if pool is not None and (self.mode.hand_off or self.mode.cinder):
                outbox.extend(self._hand_off(item, pool, volume))
        # NOTE: in pool id order: see db.api.volume_create_all.
        claims = [{'pool_id': pool_id, 'host': host, 'size': size,
                   'thick': thick}
                  for (pool_id, host, thick), size in sorted(shares.items())]
        if self.mode.cinder:
            objects.Volume.schedule_all(
                admin, volumes, [p.item.cast_key for p in plan], claims,
                outbox, messages, self.mode.service_id)
        else:
            objects.Volume.create_all(admin, volumes, claims, outbox)
        self.scheduler.claimed(claims)
        for placement, volume in zip(plan, volumes, strict=True):
            placement.item.volume = volume
        return outbox

    def _zone(self, item: _Item, pool) -> str | None:
        """The placed volume's zone: in Cinder mode the backend's, which
        overwrites the one the API wrote, as Cinder's volume_update_db."""
        if self.mode.cinder:
            return pool.availability_zone
        return item.values.get('availability_zone') or pool.availability_zone

    def _hand_off(self, item: _Item, pool, volume) -> list[dict]:
        """The outbox row of the create_volume cast to the volume service.

        Cinder's Volume goes on as received, placed; ours (or a plain
        dict's, standalone) as our Volume object's primitive.
        """
        primitive = item.primitive
        if primitive is None or primitive.namespace != \
                primitives.CINDER_NAMESPACE:
            primitive = primitives.Primitive.of(volume.obj_to_primitive())
        placed = volume_rpcapi.placed_volume(
            primitive, volume.host, volume.cluster_name, volume.scheduled_at,
            volume.availability_zone)
        spec = item.spec.get('volume_type')
        raw_type = (item.raw_spec.data.get('volume_type')
                    if isinstance(item.raw_spec, primitives.Primitive) and
                    isinstance(item.raw_spec.data, dict) else spec)
        retry = volume_rpcapi.retry_after(item.filter_properties, pool.host,
                                          self.mode.max_attempts)
        filter_properties = volume_rpcapi.onward_filter_properties(
            item.filter_properties, item.spec, raw_type, retry)
        cast = volume_rpcapi.create_volume(placed, item.raw_spec,
                                           filter_properties)
        return cast.stage(self.outbox, item.context)

    def _notification(self, placement: _Placement, volume) -> list[dict]:
        item = placement.item
        if placement.refusal is None:
            return self.outbox.stage(
                item.context, notifications.CREATE_END, 'INFO',
                notifications.volume_usage(volume.obj_get_changes()))
        properties = item.properties or {
            key: item.values[key] for key in _PROPERTIES
            if key in item.values}
        return self.outbox.stage(
            item.context, notifications.CREATE_ERROR, 'ERROR',
            notifications.create_failure(item.volume_id, item.spec,
                                         properties, placement.refusal))

    @staticmethod
    def _settled(plan: list[_Placement], taken: list[_Item]) -> None:
        """Each item's result, with the line that tells it."""
        for placement in plan:
            item = placement.item
            if placement.refusal is None:
                log_created(item.context, item.volume)
                item.result = None
                continue
            LOG.error('Cannot create volume %s: %s', item.volume_id,
                      placement.refusal, volume_id=item.volume_id,
                      context=item.context)
            item.result = exception.Refused(placement.refusal)
        for item in taken:
            _log_duplicate(item)
