"""SQLAlchemy backend of the DB API: each function is one transaction.

Functions take the RequestContext first and return plain dicts, never ORM
rows, so nothing outlives its session. Retries are declared here
(``retry_on_deadlock``, ``safe_for_db_retry``) and applied from outside the
whole transaction by the DBAPI facade, with the [database] retry options.
"""

from collections.abc import Callable
import datetime
import sys
from typing import Any

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import exc_filters
from oslo_serialization import jsonutils
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker.db.sqlalchemy import models

main_context_manager = enginefacade.transaction_context()
# NOTE: applied here, where every transaction starts, rather than on the
# class in context.py: code that only builds contexts (an API service
# casting through rpcapi) then imports no database code.
enginefacade.transaction_context_provider(sw_context.RequestContext)


# NOTE: oslo.db recognises a refused PostgreSQL connection by libpq's old
# wording ("could not connect to server"). libpq 14 and later say
# 'connection to server at "host", port N failed: ...' (refused, or the
# server starting up or shutting down), which oslo.db would re-raise as a
# plain OperationalError: not retried, and the cast would be lost. It is a
# connection error like the old one.
@exc_filters.filters('postgresql', sa_exc.OperationalError,
                     r'.*connection to server .* failed')
def _postgresql_connect_error(operational_error, match, engine_name,
                              is_disconnect):
    raise db_exc.DBConnectionError(operational_error)


# NOTE: a lock not granted in time is a temporary failure, as oslo.db says
# of MySQL's "Lock wait timeout exceeded" (1205), which it raises as
# DBDeadlock. PostgreSQL's lock_timeout (55P03 "canceling statement due to
# lock timeout") and SQLite's busy timeout ("database is locked") reach
# oslo.db's catch-all for OperationalError, which re-raises them as they
# are: not retried, and taken for unexplained errors. Matched on the
# SQLSTATE, which does not depend on the server's language.
@exc_filters.filters('postgresql', sa_exc.OperationalError, r'.*')
def _postgresql_lock_timeout(operational_error, match, engine_name,
                             is_disconnect):
    if getattr(operational_error.orig, 'pgcode', None) == '55P03':
        raise db_exc.DBDeadlock(operational_error)


@exc_filters.filters('sqlite', sa_exc.OperationalError,
                     r'.*database (table )?is locked')
def _sqlite_busy(operational_error, match, engine_name, is_disconnect):
    raise db_exc.DBDeadlock(operational_error)


# NOTE: what passes if tried again later (tests/integration/
# test_db_errors.py provokes each on the real databases). A pool with no
# connection free raises SQLAlchemy's TimeoutError at checkout, before
# any statement: oslo.db's filters never see it.
TEMPORARY_ERRORS = (db_exc.DBDeadlock, db_exc.DBConnectionError,
                    sa_exc.TimeoutError)

_VOLUME_COLUMNS = [c.name for c in models.Volume.__table__.columns]
_SERVICE_COLUMNS = [c.name for c in models.Service.__table__.columns]
_BACKEND_COLUMNS = [c.name for c in models.Backend.__table__.columns]
_POOL_COLUMNS = [c.name for c in models.Pool.__table__.columns]


def get_backend():
    """The backend is this module (oslo.db's DBAPI contract)."""
    return sys.modules[__name__]


def get_engine():
    return main_context_manager.writer.get_engine()


def pool_checked_out() -> int:
    """Connections this process has checked out of its pool (0: no pool)."""
    pool = get_engine().pool
    return pool.checkedout() if isinstance(pool, sa.pool.QueuePool) else 0


def _read_deleted_filter(context, query, model):
    if context.read_deleted == 'no':
        return query.where(model.deleted == sa.false())
    if context.read_deleted == 'only':
        return query.where(model.deleted == sa.true())
    return query


def _volume_dict(volume: models.Volume) -> dict[str, Any]:
    values = {name: getattr(volume, name) for name in _VOLUME_COLUMNS}
    values['metadata'] = {m.key: m.value for m in volume.volume_metadata}
    return values


def _service_dict(service: models.Service) -> dict[str, Any]:
    return {name: getattr(service, name) for name in _SERVICE_COLUMNS}


# Volumes



def _pool_claim(context, claim: dict[str, Any]) -> None:
    """Add a share of volumes to its pool, only if it stays within limits.

    One conditional UPDATE: the row lock (PostgreSQL, MySQL) or the single
    writer (SQLite) makes check and increment one step, so concurrent
    claims on any number of hosts cannot overshoot the limit.
    """
    pool = models.Pool
    limit = pool.physical_limit_gb if claim['thick'] else \
        pool.virtual_limit_gb
    size = claim['size']
    result = context.session.execute(
        sa.update(pool)
        .where(pool.id == claim['pool_id'], pool.deleted == sa.false(),
               sa.or_(limit.is_(None), pool.allocated_gb + size <= limit))
        .values(allocated_gb=pool.allocated_gb + size)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise exception.CapacityClaimFailed(pool=claim['host'], size=size)


def _volumes_insert(context, volumes: list[dict[str, Any]]) -> None:
    if not volumes:
        return
    # NOTE: an executemany needs the same keys in every row: those any
    # row gives (a column no row gives keeps its default).
    unset = dict.fromkeys(key for volume in volumes for key in volume)
    rows, metadata, now = [], [], timeutils.utcnow()
    for volume in volumes:
        row = dict(unset, **volume)
        for key, value in (row.pop('metadata', None) or {}).items():
            metadata.append({'volume_id': row['id'], 'key': key,
                             'value': value,
                             'created_at': row.get('created_at') or now,
                             'deleted': False})
        rows.append(row)
    # NOTE: Core inserts on the tables: the ORM's bulk path spends more
    # time organising rows than the database spends storing them.
    context.session.execute(sa.insert(models.Volume.__table__), rows)
    if metadata:
        context.session.execute(sa.insert(models.VolumeMetadata.__table__),
                                metadata)


def _handled(context, cast_keys) -> None:
    """Record casts as handled; a key already there: DBDuplicateEntry."""
    # NOTE: sorted, so that two transactions inserting the same keys wait
    # for each other rather than deadlock.
    keys = sorted(key for key in cast_keys if key is not None)
    if keys:
        now = timeutils.utcnow()
        context.session.execute(
            sa.insert(models.HandledCast.__table__),
            [{'key': key, 'created_at': now} for key in keys])


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def handled_casts_reap(context, before: datetime.datetime) -> int:
    """Forget the cast keys recorded before ``before``; how many."""
    table = models.HandledCast.__table__
    return context.session.execute(
        sa.delete(table).where(table.c.created_at < before)).rowcount


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def volume_create_all(context, volumes: list[dict[str, Any]],
                      claims: list[dict[str, Any]],
                      outbox: list[dict[str, Any]], messages=(),
                      service_id: int | None = None) -> None:
    """Insert volumes and notifications, claim capacity: one transaction.

    Each volume gives its columns and ``metadata``, and may give its
    ``cast_key`` (recorded in scheduler_worker_handled_casts). Each claim
    ({'pool_id', 'host', 'size', 'thick'}) adds a share to its pool.
    Raises DBDuplicateEntry if an id or cast key is taken,
    CapacityClaimFailed if a pool has no room left for its share; either
    way nothing is stored. ``messages`` and ``service_id`` are Cinder
    mode's (user messages, the workers table): this schema has neither,
    and the ERROR notification is the record of a failure.
    """
    volumes = [dict(volume) for volume in volumes]
    _handled(context, [volume.pop('cast_key', None) for volume in volumes])
    _volumes_insert(context, volumes)
    _outbox_add(context, outbox)
    # NOTE: the claims come last, in the order given (by pool id, so that
    # two transactions wait for each other rather than deadlock): each
    # locks its pool's row until the commit, and every worker's batches
    # wait for that lock.
    for claim in claims:
        _pool_claim(context, claim)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_get_existing(context, volume_ids: list[str]) -> set[str]:
    """Which of these ids are taken, by live or deleted volumes."""
    query = sa.select(models.Volume.id).where(
        models.Volume.id.in_(volume_ids))
    return set(context.session.execute(query).scalars())


def _volume_query(context):
    query = sa.select(models.Volume)
    return _read_deleted_filter(context, query, models.Volume)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_get(context, volume_id: str) -> dict[str, Any]:
    query = _volume_query(context).where(models.Volume.id == volume_id)
    volume = context.session.execute(query).scalar_one_or_none()
    if volume is None:
        raise exception.VolumeNotFound(volume_id=volume_id)
    return _volume_dict(volume)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_get_all(context, filters: dict[str, Any] | None = None,
                   limit: int | None = None) -> list[dict[str, Any]]:
    """Volumes, newest first, matching equality filters on columns."""
    query = _volume_query(context)
    for key, value in (filters or {}).items():
        if key not in _VOLUME_COLUMNS:
            raise exception.Invalid(reason='cannot filter volumes on %r' % key)
        query = query.where(getattr(models.Volume, key) == value)
    query = query.order_by(models.Volume.created_at.desc(),
                           models.Volume.id)
    if limit is not None:
        query = query.limit(limit)
    return [_volume_dict(v) for v in context.session.execute(query).scalars()]


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_count_by_host(context, hosts: list[str]) -> dict[str, int]:
    """How many live volumes (not deleted, not in error) each host holds."""
    query = (sa.select(models.Volume.host, sa.func.count())
             .where(models.Volume.host.in_(hosts),
                    models.Volume.deleted == sa.false(),
                    models.Volume.status != 'error')
             .group_by(models.Volume.host))
    counts = dict.fromkeys(hosts, 0)
    counts.update({host: count for host, count in
                   context.session.execute(query)})
    return counts


# Outbox

_OUTBOX = models.OutboxMessage.__table__

# NOTE: SQLite has no row locks: a claim there is a lease, this long. It
# must outlast the longest publish (connection retries, then up to
# publisher.CONFIRM_TIMEOUT for the confirms); a claimer paused for longer
# may find its rows sent by another process too.
SQLITE_LEASE = datetime.timedelta(seconds=120)


def _outbox_add(context, outbox) -> None:
    """Insert outbox rows (complete, as notifications.Outbox stages them)."""
    if outbox:
        context.session.execute(sa.insert(_OUTBOX), list(outbox))


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def outbox_add(context, outbox: list[dict[str, Any]]) -> None:
    """Store messages that report no stored outcome."""
    _outbox_add(context, outbox)


# NOTE: MariaDB and MySQL scan a small table whole rather than look its
# primary key up, and a DELETE (unlike an UPDATE, which reads the
# committed version first) waits for the lock of every row it scans: the
# lock another sender holds across its publish. Looked up by primary key,
# a statement touches only the rows it names. (A multi-table DELETE: the
# single-table form takes no index hint.)
_BY_KEY = 'FORCE INDEX (PRIMARY)'
_MYSQL_DELETE = sa.text(
    'DELETE o FROM scheduler_worker_outbox AS o FORCE INDEX (PRIMARY) '
    'WHERE o.id IN :ids').bindparams(sa.bindparam('ids', expanding=True))


def _claimable(ids, limit: int, now) -> sa.Select:
    """The rows a claim takes: these ids if nobody tried them, or due ones."""
    if ids is not None:
        return sa.select(_OUTBOX.c.id, _OUTBOX.c.attempts).where(
            _OUTBOX.c.id.in_(ids), _OUTBOX.c.attempts == 0).with_hint(
                _OUTBOX, _BY_KEY, dialect_name='mysql')
    return (sa.select(_OUTBOX).where(_OUTBOX.c.next_attempt_at <= now)
            .order_by(_OUTBOX.c.next_attempt_at).limit(limit))


# NOTE: not safe_for_db_retry: retried after send() ran, the whole function
# would send the rows a second time.
def outbox_send(context, send: Callable[[list[dict[str, Any]]], dict],
                ids: list[str] | None = None, limit: int = 100) -> int:
    """Claim rows, have send() publish them, then settle them; one sender.

    Claims the rows of ``ids`` that no one tried yet, or else up to
    ``limit`` due rows, oldest first, skipping those another process
    holds. Each row given to send() has ``attempt``, the number of this
    attempt. send() returns {id: None} for a row to forget (confirmed, or
    given up) and {id: datetime} for when to try it again. Returns how
    many rows were claimed.
    """
    if get_engine().dialect.name == 'sqlite':
        return _send_leased(context, send, ids, limit)
    return _send_locked(context, send, ids, limit)


def _send_locked(context, send, ids, limit) -> int:
    """Row locks held across send() (PostgreSQL, MySQL 8, MariaDB 10.6)."""
    with main_context_manager.writer.using(context):
        if get_engine().dialect.name == 'mysql':
            # NOTE: under REPEATABLE READ a locking scan also locks the gap
            # after the last row it read: every outcome transaction, which
            # inserts into the outbox, would wait for this send() to end.
            context.session.connection(
                execution_options={'isolation_level': 'READ COMMITTED'})
        query = _claimable(ids, limit, timeutils.utcnow())
        rows = [dict(row._mapping, attempt=row.attempts + 1)
                for row in context.session.execute(
                    query.with_for_update(skip_locked=True))]
        if rows:
            _settle(context, rows, send(rows), fenced=False)
    return len(rows)


def _send_leased(context, send, ids, limit) -> int:
    """A lease taken in one short write, send() outside it (SQLite).

    The claim counts the attempt and moves next_attempt_at to the lease's
    end in one UPDATE, so that no one else takes the rows meanwhile; the
    settlement writes only rows still at this attempt (the lease's token).
    """
    now = timeutils.utcnow()
    with main_context_manager.writer.using(context):
        # NOTE: a single statement: a read before the write would let two
        # processes read the same rows, and one of them fail to upgrade
        # its lock ("database is locked").
        chosen = _claimable(ids, limit, now).with_only_columns(
            _OUTBOX.c.id).scalar_subquery()
        claim = (sa.update(_OUTBOX).where(_OUTBOX.c.id.in_(chosen))
                 .values(attempts=_OUTBOX.c.attempts + 1,
                         next_attempt_at=now + SQLITE_LEASE))
        columns = _OUTBOX.c if ids is None else (_OUTBOX.c.id,
                                                 _OUTBOX.c.attempts)
        rows = [dict(row._mapping, attempt=row.attempts)
                for row in context.session.execute(claim.returning(
                    *columns))]
    if rows:
        outcome = send(rows)
        with main_context_manager.writer.using(context):
            _settle(context, rows, outcome, fenced=True)
    return len(rows)


def _settle(context, rows, outcome: dict, fenced: bool) -> None:
    """Delete the rows sent or given up; the others wait for their time."""
    forget = [row_id for row_id, when in outcome.items() if when is None]
    if forget and get_engine().dialect.name == 'mysql':
        context.session.execute(_MYSQL_DELETE, {'ids': forget})
    elif forget:
        context.session.execute(
            sa.delete(_OUTBOX).where(_OUTBOX.c.id.in_(forget)))
    again: dict[tuple, list[str]] = {}
    for row in rows:
        when = outcome.get(row['id'])
        if when is not None:
            again.setdefault((row['attempt'], when), []).append(row['id'])
    for (attempt, when), row_ids in again.items():
        query = sa.update(_OUTBOX).where(_OUTBOX.c.id.in_(row_ids)) \
            .with_hint(_BY_KEY, dialect_name='mysql')
        if fenced:
            query = query.where(_OUTBOX.c.attempts == attempt)
        context.session.execute(
            query.values(attempts=attempt, next_attempt_at=when))


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def outbox_stats(context) -> dict[str, dict[str, Any]]:
    """{kind: {'pending': rows, 'oldest': created_at of the oldest}}."""
    query = sa.select(_OUTBOX.c.kind, sa.func.count(),
                      sa.func.min(_OUTBOX.c.created_at)).group_by(
                          _OUTBOX.c.kind)
    return {kind: {'pending': count, 'oldest': oldest}
            for kind, count, oldest in context.session.execute(query)}


# Services

@oslo_db_api.safe_for_db_retry
@main_context_manager.writer
def service_create(context, values: dict[str, Any]) -> dict[str, Any]:
    service = models.Service(**values)
    context.session.add(service)
    context.session.flush()
    return _service_dict(service)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def service_get_by_host_and_binary(context, host: str,
                                   binary: str) -> dict[str, Any]:
    query = _read_deleted_filter(
        context, sa.select(models.Service), models.Service).where(
            models.Service.host == host, models.Service.binary == binary)
    service = context.session.execute(query).scalar_one_or_none()
    if service is None:
        raise exception.ServiceNotFound(host=host, binary=binary)
    return _service_dict(service)


def service_get_or_create(context, host: str, binary: str, topic: str,
                          availability_zone: str = 'nova') -> dict[str, Any]:
    """The services row of (host, binary), created if missing.

    ``availability_zone`` is Cinder mode's: this services table has none.
    Several processes of one host start together: the loser of the insert
    race reads the winner's row.
    """
    try:
        return service_get_by_host_and_binary(context, host, binary)
    except exception.ServiceNotFound:
        pass
    try:
        return service_create(
            context, {'host': host, 'binary': binary, 'topic': topic})
    except db_exc.DBDuplicateEntry:
        return service_get_by_host_and_binary(context, host, binary)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def service_get_all(context,
                    binary: str | None = None) -> list[dict[str, Any]]:
    query = _read_deleted_filter(
        context, sa.select(models.Service), models.Service)
    if binary is not None:
        query = query.where(models.Service.binary == binary)
    query = query.order_by(models.Service.binary, models.Service.host)
    return [_service_dict(s) for s in context.session.execute(query).scalars()]


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def service_heartbeat(context, service_id: int) -> dict[str, Any]:
    """Count one more report and stamp updated_at (UTC, this host's clock)."""
    context.session.execute(
        sa.update(models.Service)
        .where(models.Service.id == service_id)
        .values(report_count=models.Service.report_count + 1,
                updated_at=timeutils.utcnow()))
    service = context.session.get(models.Service, service_id)
    return _service_dict(service)


# Backends and pools

def _backend_dict(backend: models.Backend) -> dict[str, Any]:
    values = {name: getattr(backend, name) for name in _BACKEND_COLUMNS}
    values['capabilities'] = jsonutils.loads(backend.capabilities)
    return values


def _pool_dict(pool: models.Pool) -> dict[str, Any]:
    values = {name: getattr(pool, name) for name in _POOL_COLUMNS}
    values['capabilities'] = jsonutils.loads(pool.capabilities)
    return values


@main_context_manager.writer
def _backend_report(context, backend, pools, static) -> bool:
    now = timeutils.utcnow()
    values = {'service_name': backend.get('service_name'),
              'cluster_name': backend.get('cluster_name'),
              'capabilities': jsonutils.dumps(backend['capabilities']),
              'reported_at': backend['reported_at'], 'updated_at': now,
              'deleted': False, 'deleted_at': None}
    if static:
        values['static'] = True
    table = models.Backend
    # NOTE: the conditional update takes the backend's row lock first, so
    # reports of one backend (every worker receives each fanout) apply one
    # at a time, and one not newer than the stored report changes nothing.
    result = context.session.execute(
        sa.update(table)
        .where(table.host == backend['host'],
               table.reported_at < backend['reported_at'])
        .values(**values).execution_options(synchronize_session=False))
    backend_id = context.session.execute(
        sa.select(table.id).where(table.host == backend['host'])
    ).scalar_one_or_none()
    if result.rowcount != 1 and backend_id is not None:
        return False
    if backend_id is None:
        row = table(**dict(values, host=backend['host'], static=static))
        context.session.add(row)
        # NOTE: a worker inserting the same new backend concurrently makes
        # this fail; the retry then finds its row.
        context.session.flush()
        backend_id = row.id
    _pools_replace(context, backend_id, pools, now)
    return True


def _pools_replace(context, backend_id: int, pools: list[dict[str, Any]],
                   now) -> None:
    """Make the backend's live pools those of the report.

    Claims (allocated_gb) are never overwritten: a new pool starts with
    what the backend says is already allocated, a known one keeps its own.
    """
    table = models.Pool
    known = {pool.name: pool for pool in context.session.execute(
        sa.select(table).where(table.backend_id == backend_id)).scalars()}
    for report in sorted(pools, key=lambda p: p['name']):
        values = {'host': report['host'],
                  'availability_zone': report['availability_zone'],
                  'capabilities': jsonutils.dumps(report['capabilities']),
                  'physical_limit_gb': report['physical_limit_gb'],
                  'virtual_limit_gb': report['virtual_limit_gb'],
                  'updated_at': now, 'deleted': False, 'deleted_at': None}
        pool = known.pop(report['name'], None)
        if pool is None:
            context.session.add(table(
                backend_id=backend_id, name=report['name'],
                allocated_gb=report.get('allocated_gb', 0), **values))
        else:
            context.session.execute(
                sa.update(table).where(table.id == pool.id).values(**values)
                .execution_options(synchronize_session=False))
    gone = [pool.id for pool in known.values() if not pool.deleted]
    if gone:
        context.session.execute(
            sa.update(table).where(table.id.in_(gone))
            .values(deleted=True, deleted_at=now)
            .execution_options(synchronize_session=False))
    context.session.flush()


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@oslo_db_api.retry_on_request
def backend_report(context, backend: dict[str, Any],
                   pools: list[dict[str, Any]], static: bool = False) -> bool:
    """Store a backend's capability report and its pools, atomically.

    ``backend`` holds host, service_name, cluster_name, capabilities and
    reported_at; each pool name, host, availability_zone, capabilities,
    physical_limit_gb, virtual_limit_gb and allocated_gb (the capacity
    already allocated when the pool is new). Returns False, storing
    nothing, when the stored report is as new or newer.
    """
    try:
        return _backend_report(context, backend, pools, static)
    except db_exc.DBDuplicateEntry as exc:
        raise db_exc.RetryRequest(exc) from exc


def _backend_with_pools(context, backend: models.Backend) -> dict[str, Any]:
    values = _backend_dict(backend)
    query = (sa.select(models.Pool)
             .where(models.Pool.backend_id == backend.id,
                    models.Pool.deleted == sa.false())
             .order_by(models.Pool.name))
    values['pools'] = [_pool_dict(p) for p in
                       context.session.execute(query).scalars()]
    return values


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def backend_get(context, host: str) -> dict[str, Any]:
    """The backend ``host@backend`` with its live pools; BackendNotFound."""
    backend = context.session.execute(
        sa.select(models.Backend).where(models.Backend.host == host,
                                        models.Backend.deleted == sa.false())
    ).scalar_one_or_none()
    if backend is None:
        raise exception.BackendNotFound(host=host)
    return _backend_with_pools(context, backend)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def backend_get_all(context) -> list[dict[str, Any]]:
    """Every backend, by host, with its live pools."""
    query = (sa.select(models.Backend)
             .where(models.Backend.deleted == sa.false())
             .order_by(models.Backend.host))
    return [_backend_with_pools(context, b)
            for b in context.session.execute(query).scalars()]


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def pool_get_all(context) -> list[dict[str, Any]]:
    """Every live pool, by host, each with its backend under 'backend'."""
    query = (sa.select(models.Pool, models.Backend)
             .join(models.Backend,
                   models.Pool.backend_id == models.Backend.id)
             .where(models.Pool.deleted == sa.false(),
                    models.Backend.deleted == sa.false())
             .order_by(models.Pool.host))
    return [dict(_pool_dict(pool), backend=_backend_dict(backend))
            for pool, backend in context.session.execute(query)]
