"""Cinder backend of the DB API: Cinder's database, with our tables in it.

Selected by ``[database] backend = cinder``. Our own tables (outbox,
backends, pools, handled casts) are worked on by the sqlalchemy backend's
functions and helpers, in the same transactions: the same enginefacade
context manager, hence the same exception filters, retry declarations and
TEMPORARY_ERRORS. The volume, service and pool functions are overridden
to work on Cinder's tables (db/cinder/models.py), writing exactly what
Cinder 29's scheduler writes (doc/cinder-scheduler-reference.md); the
Cinder-only functions (extend, snapshot, backup, periodic tasks) exist
here only.

Every function that stores the outcome of a cast takes its ``cast_key``
and inserts it into scheduler_worker_handled_casts in the same
transaction: a redelivered cast raises DBDuplicateEntry and stores
nothing.

Capacity is derived, never stored: a pool's allocated_gb is the sum of
the sizes of Cinder's live volumes whose host is the pool's. A claim
locks the pool's row, then sums (one indexed SUM on volumes(deleted,
host)); the lock is held until the commit, which writes the volume's
host: the next claimer of that pool sums it in.
"""

import datetime
import sys
from typing import Any
import uuid

from oslo_db import api as oslo_db_api
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from scheduler_worker import exception
from scheduler_worker.db.cinder import models as cinder
from scheduler_worker.db.sqlalchemy import api as sqla_api
from scheduler_worker.db.sqlalchemy import models

main_context_manager = sqla_api.main_context_manager
TEMPORARY_ERRORS = sqla_api.TEMPORARY_ERRORS

# NOTE: ours, unchanged: the outbox and capability reports are our tables.
get_engine = sqla_api.get_engine
pool_checked_out = sqla_api.pool_checked_out
outbox_add = sqla_api.outbox_add
outbox_send = sqla_api.outbox_send
outbox_stats = sqla_api.outbox_stats
backend_report = sqla_api.backend_report
handled_casts_reap = sqla_api.handled_casts_reap

# What Cinder 29's scheduler reports in its services row (reference §3.1).
SCHEDULER_BINARY = 'cinder-scheduler'
RPC_CURRENT_VERSION = '3.12'
OBJECT_CURRENT_VERSION = '1.39'
# NOTE: Cinder's message_ttl default (cinder/message/api.py), 30 days.
MESSAGE_TTL = datetime.timedelta(seconds=2592000)

# The columns of a volume row the scheduler writes (reference §1.1).
VOLUME_SCHEDULED_COLUMNS = ('host', 'cluster_name', 'scheduled_at',
                            'availability_zone', 'status')

_VOLUMES = cinder.volumes
_SERVICES = cinder.services
_WORKERS = cinder.workers
_POOLS = models.Pool.__table__
_OUTBOX = models.OutboxMessage.__table__
# NOTE: publisher.RPC_CAST, the kind of an outbox row that is a cast (the
# publisher sits above the database layer).
OUTBOX_RPC_CAST = 'rpc_cast'
_HANDLED = models.HandledCast.__table__


def get_backend():
    """The backend is this module (oslo.db's DBAPI contract)."""
    return sys.modules[__name__]


def _live(table):
    return table.c.deleted == sa.false()


def _read_committed(context) -> None:
    """MySQL: each statement sees what was committed before it ran.

    Under REPEATABLE READ the derived SUM after a pool lock would read the
    transaction's snapshot, taken before the lock was granted, and miss
    the volume the previous holder placed. PostgreSQL's default is READ
    COMMITTED already. Must come first in the transaction.
    """
    if get_engine().dialect.name == 'mysql':
        context.session.connection(
            execution_options={'isolation_level': 'READ COMMITTED'})


def _handled(context, cast_keys) -> None:
    """Record casts as handled; a key already there: DBDuplicateEntry."""
    # NOTE: sorted, so that two transactions inserting the same keys wait
    # for each other rather than deadlock.
    keys = sorted(key for key in cast_keys if key is not None)
    if keys:
        now = timeutils.utcnow()
        context.session.execute(sa.insert(_HANDLED), [
            {'key': key, 'created_at': now} for key in keys])


def _messages_add(context, messages) -> None:
    """Insert user messages as Cinder's message API does (ERROR level)."""
    if not messages:
        return
    now = timeutils.utcnow()
    rows = []
    for message in messages:
        rows.append({
            'id': str(uuid.uuid4()),
            'project_id': message['project_id'],
            'request_id': message['request_id'],
            'resource_type': message['resource_type'],
            'resource_uuid': message['resource_uuid'],
            'action_id': message['action_id'],
            'detail_id': message['detail_id'],
            'message_level': 'ERROR',
            'event_id': 'VOLUME_%s_%s_%s' % (
                message['resource_type'], message['action_id'],
                message['detail_id']),
            'created_at': now, 'expires_at': now + MESSAGE_TTL,
            'deleted': False})
    context.session.execute(sa.insert(cinder.messages), rows)


def _stage(context, cast_key, outbox, messages=()) -> None:
    """What every Cinder-only outcome stores besides its own rows."""
    _handled(context, [cast_key])
    _messages_add(context, messages)
    sqla_api._outbox_add(context, outbox)


# Capacity, derived

def _allocated(context, hosts) -> dict[str, int]:
    """{pool host: GiB of live Cinder volumes placed there}."""
    hosts = list(hosts)
    if not hosts:
        return {}
    query = (sa.select(_VOLUMES.c.host,
                       sa.func.coalesce(sa.func.sum(_VOLUMES.c.size), 0))
             .where(_live(_VOLUMES), _VOLUMES.c.host.in_(hosts))
             .group_by(_VOLUMES.c.host))
    allocated = dict.fromkeys(hosts, 0)
    allocated.update({host: int(total) for host, total in
                      context.session.execute(query)})
    return allocated


def _pool_claim(context, claim: dict[str, Any]) -> None:
    """Lock the pool's row, sum what is placed there, check the room.

    The lock serialises every claimer of the pool until commit; the sum
    runs after it is granted, so it includes every volume a previous
    holder placed there. NULL limits are unlimited.
    """
    pool = context.session.execute(
        sa.select(_POOLS.c.host, _POOLS.c.physical_limit_gb,
                  _POOLS.c.virtual_limit_gb)
        .where(_POOLS.c.id == claim['pool_id'], _live(_POOLS))
        .with_for_update()).one_or_none()
    size = claim['size']
    if pool is None:
        raise exception.CapacityClaimFailed(pool=claim['host'], size=size)
    limit = pool.physical_limit_gb if claim['thick'] else \
        pool.virtual_limit_gb
    if limit is None:
        return
    used = context.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(_VOLUMES.c.size), 0))
        .where(_live(_VOLUMES), _VOLUMES.c.host == pool.host)).scalar()
    if used + size > limit:
        raise exception.CapacityClaimFailed(pool=claim['host'], size=size)


# Volumes

def _volume_update(context, volume_id: str, values: dict[str, Any]) -> None:
    """Write these columns of a live volume row; VolumeNotFound if none."""
    result = context.session.execute(
        sa.update(_VOLUMES)
        .where(_VOLUMES.c.id == volume_id, _live(_VOLUMES))
        .values(updated_at=timeutils.utcnow(), **values))
    if result.rowcount != 1:
        raise exception.VolumeNotFound(volume_id=volume_id)


def _workers_set(context, resource_type: str, resource_id: str,
                 service_id: int | None) -> None:
    """A resource's workers row in status creating, owned by
    ``service_id``, race_preventer bumped; inserted when missing
    (Cinder's set_worker and create_worker, reference §4.1, §4.3)."""
    now = timeutils.utcnow()
    result = context.session.execute(
        sa.update(_WORKERS)
        .where(_WORKERS.c.resource_type == resource_type,
               _WORKERS.c.resource_id == resource_id)
        .values(service_id=service_id, status='creating',
                race_preventer=_WORKERS.c.race_preventer + 1,
                updated_at=now))
    if result.rowcount == 0:
        context.session.execute(sa.insert(_WORKERS).values(
            resource_type=resource_type, resource_id=resource_id,
            status='creating', service_id=service_id, race_preventer=0,
            created_at=now, updated_at=now, deleted=False))


def _workers_claim(context, volume_id: str, service_id: int) -> None:
    """Claim the volume's workers row as Cinder's set_worker does: the
    row cinder-api inserted (or a reschedule reset) gets our service id."""
    _workers_set(context, 'Volume', volume_id, service_id)


def _workers_delete(context, resource_type: str, resource_id: str) -> None:
    context.session.execute(
        sa.delete(_WORKERS).where(_WORKERS.c.resource_type == resource_type,
                                  _WORKERS.c.resource_id == resource_id))


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def volume_create_all(context, volumes: list[dict[str, Any]],
                      claims: list[dict[str, Any]],
                      outbox: list[dict[str, Any]], messages=(),
                      service_id: int | None = None) -> None:
    """Store the scheduler's outcome for volumes cinder-api created.

    One transaction: the cast keys, the claims (pool rows locked in the
    order given, by pool id), the volume rows (only host, cluster_name,
    scheduled_at, availability_zone and status, of those given, plus
    updated_at), the workers rows (claimed with ``service_id`` while the
    volume is ``creating``, deleted when it is ``error``), the user
    messages and the outbox rows. Raises DBDuplicateEntry (a cast key
    handled already), CapacityClaimFailed or VolumeNotFound (missing or
    deleted); either way nothing is stored.
    """
    _read_committed(context)
    _handled(context, [volume.get('cast_key') for volume in volumes])
    for claim in claims:
        _pool_claim(context, claim)
    for volume in volumes:
        values = {name: volume[name] for name in VOLUME_SCHEDULED_COLUMNS
                  if name in volume}
        _volume_update(context, volume['id'], values)
        status = values.get('status')
        if status == 'error':
            _workers_delete(context, 'Volume', volume['id'])
        elif status == 'creating' and service_id is not None:
            _workers_claim(context, volume['id'], service_id)
    _messages_add(context, messages)
    sqla_api._outbox_add(context, outbox)


_VOLUME_COLUMNS = [c.name for c in _VOLUMES.columns]


def _volume_dicts(context, rows) -> list[dict[str, Any]]:
    volumes = [dict(row._mapping) for row in rows]
    if volumes:
        meta = cinder.volume_metadata
        query = sa.select(meta.c.volume_id, meta.c.key, meta.c.value).where(
            meta.c.volume_id.in_([v['id'] for v in volumes]), _live(meta))
        found: dict[str, dict[str, str]] = {}
        for volume_id, key, value in context.session.execute(query):
            found.setdefault(volume_id, {})[key] = value
        for volume in volumes:
            volume['metadata'] = found.get(volume['id'], {})
    return volumes


def _volume_query(context):
    query = sa.select(_VOLUMES)
    if context.read_deleted == 'no':
        return query.where(_VOLUMES.c.deleted == sa.false())
    if context.read_deleted == 'only':
        return query.where(_VOLUMES.c.deleted == sa.true())
    return query


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_get(context, volume_id: str) -> dict[str, Any]:
    """Cinder's volume row (the columns we declare) with its metadata."""
    rows = context.session.execute(
        _volume_query(context).where(_VOLUMES.c.id == volume_id)).all()
    if not rows:
        raise exception.VolumeNotFound(volume_id=volume_id)
    return _volume_dicts(context, rows)[0]


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_get_existing(context, volume_ids: list[str]) -> set[str]:
    """Which of these ids Cinder has a row for, live or deleted."""
    return set(context.session.execute(
        sa.select(_VOLUMES.c.id).where(_VOLUMES.c.id.in_(volume_ids)))
        .scalars())


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_get_all(context, filters: dict[str, Any] | None = None,
                   limit: int | None = None) -> list[dict[str, Any]]:
    """Cinder's volumes, newest first, matching equality filters."""
    query = _volume_query(context)
    for key, value in (filters or {}).items():
        if key not in _VOLUME_COLUMNS:
            raise exception.Invalid(reason='cannot filter volumes on %r' % key)
        query = query.where(_VOLUMES.c[key] == value)
    query = query.order_by(_VOLUMES.c.created_at.desc(), _VOLUMES.c.id)
    if limit is not None:
        query = query.limit(limit)
    return _volume_dicts(context, context.session.execute(query))


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_count_by_host(context, hosts: list[str]) -> dict[str, int]:
    """How many live volumes (not deleted, not in error) each host holds."""
    query = (sa.select(_VOLUMES.c.host, sa.func.count())
             .where(_VOLUMES.c.host.in_(hosts), _live(_VOLUMES),
                    _VOLUMES.c.status != 'error')
             .group_by(_VOLUMES.c.host))
    counts = dict.fromkeys(hosts, 0)
    counts.update(dict(context.session.execute(query).all()))
    return counts


# Extend, snapshots, backups: Cinder mode only

def _reservations_rollback(context, rows) -> None:
    """Cinder's reservation rollback of these (locked, live) rows.

    quota_usages.reserved goes down by each positive delta (never below
    0), the usage's updated_at refreshed; each reservation soft-deleted,
    its updated_at kept (db/api.py:reservation_rollback).
    """
    usages = cinder.quota_usages
    reservations = cinder.reservations
    now = timeutils.utcnow()
    by_usage: dict[int, int] = {}
    for row in rows:
        if row.delta >= 0 and row.usage_id is not None:
            by_usage[row.usage_id] = by_usage.get(row.usage_id, 0) + \
                row.delta
    for usage_id in sorted(by_usage):
        usage = context.session.execute(
            sa.select(usages.c.reserved).where(
                usages.c.id == usage_id, _live(usages)).with_for_update()
        ).one_or_none()
        if usage is None:
            continue
        context.session.execute(
            sa.update(usages).where(usages.c.id == usage_id).values(
                reserved=usage.reserved - min(by_usage[usage_id],
                                              usage.reserved),
                updated_at=now))
    if rows:
        context.session.execute(
            sa.update(reservations)
            .where(reservations.c.id.in_([row.id for row in rows]))
            .values(deleted=True, deleted_at=now))


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def volume_extend_refused(context, volume_id: str, reservations: list[str],
                          project_id: str, messages, outbox,
                          cast_key: str) -> None:
    """An extend with no room: what Cinder's scheduler stores (§1.5).

    Status back to previous_status, previous_status NULL; the
    reservations rolled back (Cinder's reservation_rollback); the user
    message and outbox rows stored; one transaction, keyed by cast_key.
    """
    _stage(context, cast_key, outbox, messages)
    volume = context.session.execute(
        sa.select(_VOLUMES.c.previous_status)
        .where(_VOLUMES.c.id == volume_id, _live(_VOLUMES))
        .with_for_update()).one_or_none()
    if volume is None:
        raise exception.VolumeNotFound(volume_id=volume_id)
    _volume_update(context, volume_id, {'status': volume.previous_status,
                                        'previous_status': None})
    table = cinder.reservations
    if reservations:
        rows = context.session.execute(
            sa.select(table.c.id, table.c.usage_id, table.c.delta)
            .where(table.c.uuid.in_(list(reservations)),
                   table.c.project_id == project_id, _live(table))
            .order_by(table.c.id).with_for_update()).all()
        _reservations_rollback(context, rows)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def cast_handled(context, cast_key: str, outbox) -> None:
    """Only record the cast as handled, with its outbox rows."""
    _stage(context, cast_key, outbox)


def _snapshot_live(context, snapshot_id: str) -> None:
    table = cinder.snapshots
    found = context.session.execute(
        sa.select(table.c.id).where(table.c.id == snapshot_id, _live(table))
    ).one_or_none()
    if found is None:
        raise exception.NotFound('Snapshot %s could not be found.'
                                 % snapshot_id)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def snapshot_hand_off(context, snapshot_id: str, outbox,
                      cast_key: str) -> None:
    """The Snapshot workers row, as VolumeAPI.create_snapshot writes it.

    ('Snapshot', id, 'creating', service_id NULL); an existing row is
    reset as create_worker does (race_preventer + 1). Raises NotFound
    for a snapshot missing or deleted.
    """
    _stage(context, cast_key, outbox)
    _snapshot_live(context, snapshot_id)
    _workers_set(context, 'Snapshot', snapshot_id, None)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def snapshot_refused(context, snapshot_id: str, outbox,
                     cast_key: str) -> None:
    """Snapshot status ``error`` (NoValidBackend, reference §1.3)."""
    _stage(context, cast_key, outbox)
    table = cinder.snapshots
    result = context.session.execute(
        sa.update(table).where(table.c.id == snapshot_id, _live(table))
        .values(status='error', updated_at=timeutils.utcnow()))
    if result.rowcount != 1:
        raise exception.NotFound('Snapshot %s could not be found.'
                                 % snapshot_id)


def _backup_update(context, backup_id: str, values) -> None:
    table = cinder.backups
    result = context.session.execute(
        sa.update(table).where(table.c.id == backup_id, _live(table))
        .values(updated_at=timeutils.utcnow(), **values))
    if result.rowcount != 1:
        raise exception.NotFound('Backup %s could not be found.' % backup_id)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def backup_hand_off(context, backup_id: str, host: str, outbox,
                    cast_key: str) -> None:
    """backups.host = the backup service chosen (reference §1.4)."""
    _stage(context, cast_key, outbox)
    _backup_update(context, backup_id, {'host': host})


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def backup_refused(context, backup_id: str, volume_id: str,
                   fail_reason: str, messages, outbox,
                   cast_key: str) -> None:
    """No backup service: what Cinder's scheduler stores (§1.4).

    Backup status ``error`` with fail_reason (truncated to 255, as
    Cinder's ORM does); the volume's status and previous_status swapped.
    """
    _stage(context, cast_key, outbox, messages)
    _backup_update(context, backup_id, {'status': 'error',
                                        'fail_reason': fail_reason[:255]})
    # NOTE: read, then written: MySQL evaluates SET a = b, b = a left to
    # right, so a swap in one UPDATE would lose the status.
    volume = context.session.execute(
        sa.select(_VOLUMES.c.status, _VOLUMES.c.previous_status)
        .where(_VOLUMES.c.id == volume_id, _live(_VOLUMES))
        .with_for_update()).one_or_none()
    if volume is None:
        raise exception.VolumeNotFound(volume_id=volume_id)
    _volume_update(context, volume_id, {
        'status': volume.previous_status,
        'previous_status': volume.status})


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def messages_reap(context) -> int:
    """Delete expired user messages (Cinder's cleanup_expired_messages)."""
    table = cinder.messages
    return context.session.execute(
        sa.delete(table).where(table.c.expires_at < timeutils.utcnow())
    ).rowcount


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def reservations_expire(context) -> int:
    """Roll back expired reservations (Cinder's reservation_expire)."""
    table = cinder.reservations
    rows = context.session.execute(
        sa.select(table.c.id, table.c.usage_id, table.c.delta)
        .where(_live(table), table.c.expire < timeutils.utcnow())
        .order_by(table.c.id).with_for_update()).all()
    _reservations_rollback(context, rows)
    return len(rows)


def _volume_type_where(context, where):
    types = cinder.volume_types
    return context.session.execute(
        sa.select(types.c.id, types.c.name)
        .where(_live(types), where).order_by(types.c.id).limit(1)).first()


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def volume_type_get_by_name_or_id(context,
                                  name_or_id: str) -> dict[str, Any] | None:
    """The live volume type with this id, else this name, as Cinder's
    volume_types.get_by_name_or_id looks (an id only when uuid-like)."""
    types = cinder.volume_types
    row = None
    if uuidutils.is_uuid_like(name_or_id):
        row = _volume_type_where(context, types.c.id == name_or_id)
    if row is None:
        row = _volume_type_where(context, types.c.name == name_or_id)
    if row is None:
        return None
    specs = cinder.volume_type_extra_specs
    extra = context.session.execute(
        sa.select(specs.c.key, specs.c.value)
        .where(_live(specs), specs.c.volume_type_id == row.id)).all()
    return {'id': row.id, 'name': row.name,
            'extra_specs': {key: value for key, value in extra}}


# Services: Cinder's services row, as cinder-scheduler writes it

_SERVICE_COLUMNS = [c.name for c in _SERVICES.columns]


def _service_row(context, **where):
    query = sa.select(_SERVICES).where(
        *[_SERVICES.c[k] == v for k, v in where.items()])
    if context.read_deleted == 'no':
        query = query.where(_live(_SERVICES))
    return context.session.execute(
        query.order_by(_SERVICES.c.id).limit(1)).one_or_none()


@oslo_db_api.safe_for_db_retry
@main_context_manager.writer
def service_create(context, values: dict[str, Any]) -> dict[str, Any]:
    """Insert a services row; Cinder's defaults for what values omit."""
    now = timeutils.utcnow()
    row = {'uuid': str(uuid.uuid4()), 'report_count': 0, 'disabled': False,
           'replication_status': 'not-capable', 'frozen': False,
           'created_at': now, 'updated_at': now, 'deleted': False}
    row.update(values)
    result = context.session.execute(sa.insert(_SERVICES).values(**row))
    return dict(_service_row(
        context, id=result.inserted_primary_key[0])._mapping)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def service_get_by_host_and_binary(context, host: str,
                                   binary: str) -> dict[str, Any]:
    """The first services row of (host, binary), as Cinder finds it."""
    row = _service_row(context, host=host, binary=binary)
    if row is None:
        raise exception.ServiceNotFound(host=host, binary=binary)
    return dict(row._mapping)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def service_get_or_create(context, host: str, binary: str, topic: str,
                          availability_zone: str = 'nova') -> dict[str, Any]:
    """Our services row as cinder-scheduler writes it at start (§3.1).

    Found by (host, binary): reused (id, uuid, report_count, created_at
    kept), its versions rewritten and updated_at refreshed. Missing:
    inserted with Cinder's values. Cinder has no unique key on (host,
    binary): the processes of one host starting together take turns on
    the row lock of our own version table, so only one inserts.
    """
    version = sa.table('scheduler_worker_alembic_version',
                       sa.column('version_num'))
    context.session.execute(sa.select(version.c.version_num)
                            .with_for_update()).all()
    now = timeutils.utcnow()
    row = _service_row(context, host=host, binary=binary)
    versions = {'rpc_current_version': RPC_CURRENT_VERSION,
                'object_current_version': OBJECT_CURRENT_VERSION}
    if row is None:
        return service_create(context, dict(
            versions, host=host, binary=binary, topic=topic,
            availability_zone=availability_zone))
    context.session.execute(
        sa.update(_SERVICES).where(_SERVICES.c.id == row.id)
        .values(updated_at=now, **versions))
    return dict(_service_row(context, id=row.id)._mapping)


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def service_get_all(context,
                    binary: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(_SERVICES)
    if context.read_deleted == 'no':
        query = query.where(_live(_SERVICES))
    if binary is not None:
        query = query.where(_SERVICES.c.binary == binary)
    query = query.order_by(_SERVICES.c.binary, _SERVICES.c.host,
                           _SERVICES.c.id)
    return [dict(row._mapping) for row in context.session.execute(query)]


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def service_heartbeat(context, service_id: int) -> dict[str, Any]:
    """report_count + 1, updated_at now (Service.report_state)."""
    result = context.session.execute(
        sa.update(_SERVICES)
        .where(_SERVICES.c.id == service_id, _live(_SERVICES))
        .values(report_count=_SERVICES.c.report_count + 1,
                updated_at=timeutils.utcnow()))
    if result.rowcount != 1:
        raise exception.ServiceNotFound(host='(id %s)' % service_id,
                                        binary=SCHEDULER_BINARY)
    return dict(_service_row(context, id=service_id)._mapping)


# Backends and pools: ours, with the allocation derived

def _derive(context, pools: list[dict[str, Any]]) -> None:
    allocated = _allocated(context, [pool['host'] for pool in pools])
    for pool in pools:
        pool['allocated_gb'] = allocated[pool['host']]


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def backend_get(context, host: str) -> dict[str, Any]:
    """The backend with its live pools, allocations derived."""
    backend = sqla_api.backend_get(context, host)
    _derive(context, backend['pools'])
    return backend


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def backend_get_all(context) -> list[dict[str, Any]]:
    """Every backend with its live pools, allocations derived."""
    found = sqla_api.backend_get_all(context)
    _derive(context, [pool for backend in found
                      for pool in backend['pools']])
    return found


@oslo_db_api.safe_for_db_retry
@main_context_manager.reader
def pool_get_all(context) -> list[dict[str, Any]]:
    """Every live pool, allocated_gb derived (one GROUP BY on volumes)."""
    pools = sqla_api.pool_get_all(context)
    _derive(context, pools)
    return pools


# Retype and migration (issue 11, i11-migrate): Cinder mode only

# NOTE: what a refused retype or migration writes (reference §1.6, §1.7).
_MOVE_REFUSED_COLUMNS = ('status', 'migration_status')


# Issue 11: manage_existing, create_group (manage_existing_snapshot uses
# cast_handled and snapshot_refused). Each one transaction with its cast
# key and outbox rows, as the functions above.

@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def volume_managed(context, volume_id: str, host: str,
                   cluster_name: str | None, outbox,
                   cast_key: str) -> None:
    """The pool chosen for a volume being managed (reference §1.8): host
    (pool level) and cluster_name, as Cinder's volume.save() writes them.
    VolumeNotFound for a volume missing or deleted."""
    _stage(context, cast_key, outbox)
    _volume_update(context, volume_id, {'host': host,
                                        'cluster_name': cluster_name})


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def volume_move_refused(context, volume_id: str, values: dict[str, Any],
                        reservations: list[str], project_id: str | None,
                        outbox, cast_key: str) -> None:
    """A retype or migration refused: what Cinder's scheduler stores.

    ``values`` (status and/or migration_status only) written on the live
    volume row, previous_status left as it is; ``reservations`` of
    ``project_id`` rolled back (Cinder's reservation_rollback; those not
    found, or of another project, are left, as Cinder's lookup leaves
    them). VolumeNotFound for a volume missing or deleted.
    """
    unknown = set(values) - set(_MOVE_REFUSED_COLUMNS)
    if unknown:
        raise exception.Invalid(reason='a refused move writes only %s, not '
                                '%s' % (', '.join(_MOVE_REFUSED_COLUMNS),
                                        ', '.join(sorted(unknown))))
    _stage(context, cast_key, outbox)
    _volume_update(context, volume_id, dict(values))
    table = cinder.reservations
    if reservations:
        rows = context.session.execute(
            sa.select(table.c.id, table.c.usage_id, table.c.delta)
            .where(table.c.uuid.in_(list(reservations)),
                   table.c.project_id == project_id, _live(table))
            .order_by(table.c.id).with_for_update()).all()
        _reservations_rollback(context, rows)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def volume_manage_refused(context, volume_id: str, outbox,
                          cast_key: str) -> None:
    """The volume's status ``error_managing`` (reference §1.8)."""
    _stage(context, cast_key, outbox)
    _volume_update(context, volume_id, {'status': 'error_managing'})


def _group_update(context, group_id: str, values) -> None:
    table = cinder.groups
    result = context.session.execute(
        sa.update(table).where(table.c.id == group_id, _live(table))
        .values(**values))
    if result.rowcount != 1:
        raise exception.NotFound('Group %s could not be found.' % group_id)


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def group_hand_off(context, group_id: str, host: str,
                   cluster_name: str | None,
                   updated_at: datetime.datetime, outbox,
                   cast_key: str) -> None:
    """The group's host and cluster_name (pool level) and updated_at, as
    Cinder's generic_group_update_db writes them (reference §1.2)."""
    _stage(context, cast_key, outbox)
    _group_update(context, group_id, {'host': host,
                                      'cluster_name': cluster_name,
                                      'updated_at': updated_at})


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def group_refused(context, group_id: str, outbox, cast_key: str) -> None:
    """The group's status ``error`` (NoValidBackend, reference §1.2)."""
    _stage(context, cast_key, outbox)
    _group_update(context, group_id, {'status': 'error',
                                      'updated_at': timeutils.utcnow()})


# Issue 11: workers cleanup (reference §4.2).

def services_for_cleanup(context, filters: dict[str, Any],
                         down_time: int) -> list[dict[str, Any]]:
    """Live services matching work_cleanup's filters, each with ``is_up``
    (heartbeat within ``down_time`` s). None filters are ignored; ``host``
    matches the host or any backend of it (``host@...``), as Cinder."""
    with main_context_manager.reader.using(context):
        query = sa.select(_SERVICES).where(_live(_SERVICES))
        for name in ('binary', 'cluster_name', 'disabled'):
            if filters.get(name) is not None:
                query = query.where(_SERVICES.c[name] == filters[name])
        host = filters.get('host')
        if host is not None:
            query = query.where(sa.or_(
                _SERVICES.c.host == host,
                _SERVICES.c.host.like(host.replace('%', r'\%').replace(
                    '_', r'\_') + '@%', escape='\\')))
        rows = [dict(row._mapping) for row in context.session.execute(
            query.order_by(_SERVICES.c.id))]
    now = timeutils.utcnow()
    for row in rows:
        seen = row['updated_at'] or row['created_at']
        row['is_up'] = seen is not None and \
            (now - seen).total_seconds() <= down_time
    is_up = filters.get('is_up')
    return [row for row in rows if is_up is None or row['is_up'] == is_up]


def _handing_off():
    """Whether a workers row's Volume has its create_volume hand-off still
    in the outbox (committed, not yet confirmed by the broker).

    Such a row is the worker's own committed outcome: the relay (any
    worker's) sends the cast, and the volume service then claims the row.
    Set to error now, the volume would be created anyway by the cast that
    follows. (The volume id and the method name are in the row's body,
    the message as it goes on the wire.)
    """
    return sa.exists().where(
        _WORKERS.c.resource_type == 'Volume',
        _OUTBOX.c.kind == OUTBOX_RPC_CAST,
        _OUTBOX.c.body.contains('create_volume'),
        _OUTBOX.c.body.contains(_WORKERS.c.resource_id))


@oslo_db_api.safe_for_db_retry
@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def workers_cleanup(context, claimer_id: int,
                    filters: dict[str, Any],
                    until: datetime.datetime) -> list[dict[str, Any]]:
    """Cinder's CleanableManager.do_cleanup with the scheduler's
    _do_cleanup, in one transaction: the workers rows matching
    ``filters`` (resource_type, resource_id, service_id; None ignored)
    updated at or before ``until``, SENTINEL excluded, are claimed for
    ``claimer_id`` (race_preventer + 1); a Volume still in the row's
    status ``creating`` goes to ``error``; every claimed row is deleted.
    A Volume whose create_volume hand-off is still in the outbox is left
    alone (_handing_off). Returns the rows cleaned (resource_type,
    resource_id, status, and ``cleaned``: whether the resource was set to
    error)."""
    query = sa.select(_WORKERS).where(
        _WORKERS.c.resource_type != 'SENTINEL', _WORKERS.c.updated_at <= until,
        sa.not_(_handing_off()))
    for name in ('resource_type', 'resource_id', 'service_id'):
        if filters.get(name) is not None:
            query = query.where(_WORKERS.c[name] == filters[name])
    rows = context.session.execute(
        query.order_by(_WORKERS.c.id).with_for_update(
            skip_locked=True, of=_WORKERS)).all()
    now = timeutils.utcnow()
    done = []
    for row in rows:
        context.session.execute(
            sa.update(_WORKERS).where(_WORKERS.c.id == row.id).values(
                service_id=claimer_id,
                race_preventer=_WORKERS.c.race_preventer + 1,
                updated_at=now))
        cleaned = False
        if row.resource_type == 'Volume' and row.status == 'creating':
            cleaned = context.session.execute(
                sa.update(_VOLUMES).where(
                    _VOLUMES.c.id == row.resource_id, _live(_VOLUMES),
                    _VOLUMES.c.status == 'creating')
                .values(status='error', updated_at=now)).rowcount == 1
        context.session.execute(sa.delete(_WORKERS).where(
            _WORKERS.c.id == row.id))
        done.append({'resource_type': row.resource_type,
                     'resource_id': row.resource_id, 'status': row.status,
                     'cleaned': cleaned})
    return done
