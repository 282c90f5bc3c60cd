"""The DB API facade: thin functions over the configured backend.

Callers import this module, never the backend. The facade is built on
first use, from the [database] options parsed by then: ``backend`` picks
the backend, and ``use_db_reconnect``, ``db_max_retries``,
``db_retry_interval``, ``db_inc_retry_interval`` and
``db_max_retry_interval`` are the one retry policy, which oslo.db's DBAPI
wraps around each whole transaction the backend marks retriable.
"""

from collections.abc import Callable
import datetime
import functools
from typing import Any

from oslo_db import api as oslo_db_api

from scheduler_worker import conf

# NOTE: [database] backend (oslo.db's option) picks one: 'sqlalchemy',
# our own schema (standalone mode, the default), or 'cinder', Cinder's
# database with our tables beside Cinder's (Cinder mode).
_BACKEND_MAPPING = {'sqlalchemy': 'scheduler_worker.db.sqlalchemy.api',
                    'cinder': 'scheduler_worker.db.cinder.api'}


def is_cinder(config) -> bool:
    """Whether ``config`` puts the worker in Cinder mode.

    The one place the mode is read: service.py and cmd/ ask here, and hand
    what follows from it down as arguments.
    """
    return config.database.backend == 'cinder'


@functools.cache
def _impl() -> oslo_db_api.DBAPI:
    return oslo_db_api.DBAPI.from_config(conf.CONF,
                                         backend_mapping=_BACKEND_MAPPING,
                                         lazy=True)


def is_temporary(exc: BaseException) -> bool:
    """Whether a failure is the database's, passing: try again later.

    Deadlocks, lock timeouts, lost or refused connections, a connection
    pool with none free. Never a reason to give a request up.
    """
    return isinstance(exc, _impl().TEMPORARY_ERRORS)


def pool_checked_out() -> int:
    """Database connections this process has in use right now."""
    return _impl().pool_checked_out()


def volume_create_all(context, volumes: list[dict[str, Any]],
                      claims: list[dict[str, Any]],
                      outbox: list[dict[str, Any]],
                      messages: list[dict[str, Any]] | tuple = (),
                      service_id: int | None = None) -> None:
    """Store the scheduler's outcome for volumes: one transaction.

    Each claim ({'pool_id', 'host', 'size', 'thick'}) checks (and, in
    standalone mode, adds) a share of its pool; give them in pool id
    order. A volume's ``cast_key``, when given, is recorded as handled.
    Either way nothing is stored when this raises.

    Standalone: inserts the volumes (columns and ``metadata``); raises
    DBDuplicateEntry if an id or cast key is taken, CapacityClaimFailed if
    a pool has no room left. ``messages`` and ``service_id`` are ignored
    (no messages or workers table; the ERROR notification is the record).

    Cinder mode: the volume rows are cinder-api's; each dict gives ``id``,
    ``cast_key`` and values, of which only host, cluster_name,
    scheduled_at, availability_zone and status are written (with
    updated_at). Raises VolumeNotFound for a row missing or deleted,
    DBDuplicateEntry for a cast key handled already (a redelivery),
    CapacityClaimFailed when the derived allocation of a locked pool
    leaves no room. The workers row of a volume still ``creating`` is
    claimed for ``service_id``; that of a volume in ``error`` deleted.
    ``messages`` (user messages: project_id, request_id, resource_type,
    resource_uuid, action_id, detail_id) are inserted at level ERROR,
    expiring in 30 days.
    """
    return _impl().volume_create_all(context, volumes, claims, outbox,
                                     messages=messages, service_id=service_id)


def handled_casts_reap(context, before: datetime.datetime) -> int:
    """Forget the handled-cast keys recorded before ``before``; how many.

    A key guards against a redelivery, which comes within minutes (a
    broker's requeue, a worker restarted): keys older than a day or so
    guard nothing, and the table would otherwise grow with every cast.
    """
    return _impl().handled_casts_reap(context, before)


def volume_get_existing(context, volume_ids: list[str]) -> set[str]:
    """Which of these ids are taken, by live or deleted volumes.

    Cinder mode: which of them Cinder has a row for.
    """
    return _impl().volume_get_existing(context, volume_ids)


def volume_get(context, volume_id: str) -> dict[str, Any]:
    """The volume with this id; raises VolumeNotFound.

    Cinder mode: Cinder's row, as a dict of the columns we declare
    (db/cinder/models.py), with its ``metadata``.
    """
    return _impl().volume_get(context, volume_id)


def volume_get_all(context, filters: dict[str, Any] | None = None,
                   limit: int | None = None) -> list[dict[str, Any]]:
    """Volumes matching equality filters, newest first."""
    return _impl().volume_get_all(context, filters=filters, limit=limit)


def volume_count_by_host(context, hosts: list[str]) -> dict[str, int]:
    """Live volumes (not deleted, not in error) on each of these hosts."""
    return _impl().volume_count_by_host(context, hosts)


def outbox_add(context, outbox: list[dict[str, Any]]) -> None:
    """Store messages that report no stored outcome."""
    return _impl().outbox_add(context, outbox)


def outbox_send(context, send: Callable[[list[dict[str, Any]]], dict],
                ids: list[str] | None = None, limit: int = 100) -> int:
    """Claim outbox rows, send them with the claim held, settle them.

    No other process sends a claimed row until this returns (see the
    backend for how each database holds the claim). ``ids``: those rows,
    if no one tried them yet; otherwise up to ``limit`` due rows. send()
    returns {id: None} to forget a row and {id: datetime} to try it again
    then. Returns how many rows were claimed.
    """
    return _impl().outbox_send(context, send, ids=ids, limit=limit)


def outbox_stats(context) -> dict[str, dict[str, Any]]:
    """Rows waiting in the outbox by kind, and the oldest one's created_at."""
    return _impl().outbox_stats(context)


def service_create(context, values: dict[str, Any]) -> dict[str, Any]:
    return _impl().service_create(context, values)


def service_get_or_create(context, host: str, binary: str, topic: str,
                          availability_zone: str = 'nova') -> dict[str, Any]:
    """The services row of (host, binary), created if missing.

    Cinder mode: Cinder's services row as cinder-scheduler writes it
    (binary and topic ``cinder-scheduler`` are the caller's to give): a
    found row is reused, its rpc_current_version ('3.12') and
    object_current_version ('1.39') rewritten and updated_at refreshed;
    a new one gets a uuid, report_count 0 and ``availability_zone``.
    Standalone ignores ``availability_zone``.
    """
    return _impl().service_get_or_create(
        context, host, binary, topic, availability_zone=availability_zone)


def service_get_by_host_and_binary(context, host: str,
                                   binary: str) -> dict[str, Any]:
    return _impl().service_get_by_host_and_binary(context, host, binary)


def service_get_all(context,
                    binary: str | None = None) -> list[dict[str, Any]]:
    return _impl().service_get_all(context, binary=binary)


def service_heartbeat(context, service_id: int) -> dict[str, Any]:
    """Record that the service is alive now: report_count + 1, updated_at.

    Cinder mode: ServiceNotFound when the row is gone (an operator's
    ``cinder-manage service remove``): call service_get_or_create again.
    """
    return _impl().service_heartbeat(context, service_id)


def backend_report(context, backend: dict[str, Any],
                   pools: list[dict[str, Any]], static: bool = False) -> bool:
    """Store a backend's capability report with its pools, atomically.

    Returns False, storing nothing, when the stored report is as new or
    newer. Pools missing from the report are marked deleted; the capacity
    claimed from a pool is never changed by a report.
    """
    return _impl().backend_report(context, backend, pools, static=static)


def backend_get(context, host: str) -> dict[str, Any]:
    """The backend ``host@backend`` with its live pools; BackendNotFound."""
    return _impl().backend_get(context, host)


def backend_get_all(context) -> list[dict[str, Any]]:
    """Every backend with its live pools."""
    return _impl().backend_get_all(context)


def pool_get_all(context) -> list[dict[str, Any]]:
    """Every live pool, each with its backend under 'backend'.

    Cinder mode: each pool's allocated_gb is derived, the sum of the sizes
    of Cinder's live volumes on its host (one GROUP BY for all pools);
    likewise in backend_get and backend_get_all.
    """
    return _impl().pool_get_all(context)


# Cinder mode only: each is one transaction that records ``cast_key`` as
# handled (a key already there: DBDuplicateEntry, nothing stored) and
# stores the ``outbox`` rows (the casts and notifications it stages). The
# standalone backend has none of them (AttributeError).

def volume_extend_refused(context, volume_id: str, reservations: list[str],
                          project_id: str, messages: list[dict[str, Any]],
                          outbox: list[dict[str, Any]],
                          cast_key: str) -> None:
    """Cinder mode: an extend refused for want of room.

    The volume's status goes back to previous_status, previous_status to
    NULL; the reservations are rolled back as Cinder's
    reservation_rollback does (rows soft-deleted, quota_usages.reserved
    down by each positive delta); the user messages are stored.
    VolumeNotFound for a volume missing or deleted.
    """
    return _impl().volume_extend_refused(
        context, volume_id, reservations, project_id, messages, outbox,
        cast_key)


def cast_handled(context, cast_key: str,
                 outbox: list[dict[str, Any]]) -> None:
    """Cinder mode: only the cast's key and its outbox rows (e.g. an
    extend passed on to the volume service)."""
    return _impl().cast_handled(context, cast_key, outbox)


def snapshot_hand_off(context, snapshot_id: str,
                      outbox: list[dict[str, Any]], cast_key: str) -> None:
    """Cinder mode: the snapshot's workers row ('Snapshot', id,
    'creating', service_id NULL, as Cinder's VolumeAPI.create_snapshot
    writes it) with the onward cast. NotFound for a deleted snapshot."""
    return _impl().snapshot_hand_off(context, snapshot_id, outbox, cast_key)


def snapshot_refused(context, snapshot_id: str,
                     outbox: list[dict[str, Any]], cast_key: str) -> None:
    """Cinder mode: the snapshot's status set to ``error``."""
    return _impl().snapshot_refused(context, snapshot_id, outbox, cast_key)


def backup_hand_off(context, backup_id: str, host: str,
                    outbox: list[dict[str, Any]], cast_key: str) -> None:
    """Cinder mode: backups.host set to the chosen backup service's host,
    with the onward cast."""
    return _impl().backup_hand_off(context, backup_id, host, outbox,
                                   cast_key)


def backup_refused(context, backup_id: str, volume_id: str,
                   fail_reason: str, messages: list[dict[str, Any]],
                   outbox: list[dict[str, Any]], cast_key: str) -> None:
    """Cinder mode: no backup service. The backup's status ``error`` and
    fail_reason; the volume's status and previous_status swapped (as
    Cinder's scheduler does); the user messages stored."""
    return _impl().backup_refused(context, backup_id, volume_id,
                                  fail_reason, messages, outbox, cast_key)


def messages_reap(context) -> int:
    """Cinder mode: delete the user messages past expires_at; how many."""
    return _impl().messages_reap(context)


def volume_type_get_by_name_or_id(context,
                                  name_or_id: str) -> dict[str, Any] | None:
    """Cinder mode: the live volume type with this id, else this name
    (Cinder's volume_types.get_by_name_or_id), as {'id', 'name',
    'extra_specs': {key: value}}; None when there is none."""
    return _impl().volume_type_get_by_name_or_id(context, name_or_id)


def reservations_expire(context) -> int:
    """Cinder mode: roll back the reservations past their expire time, as
    Cinder's reservation_expire does; how many."""
    return _impl().reservations_expire(context)


# Retype and migration (issue 11): Cinder mode only, one transaction with
# ``cast_key`` and ``outbox`` as above.

def volume_move_refused(context, volume_id: str, values: dict[str, Any],
                        reservations: list[str], project_id: str | None,
                        outbox: list[dict[str, Any]], cast_key: str) -> None:
    """Cinder mode: a retype or migration refused.

    ``values`` ({'status': ...} and/or {'migration_status': ...}) written
    on the volume, previous_status kept; ``reservations`` of
    ``project_id`` rolled back (Cinder's reservation_rollback; a retype's
    new-type reservations, with the caller's project as Cinder's). Invalid
    for other columns; VolumeNotFound for a volume missing or deleted.
    """
    return _impl().volume_move_refused(context, volume_id, values,
                                       reservations, project_id, outbox,
                                       cast_key)


# Cinder mode only, issue 11 (manage_existing, create_group); as the
# functions above: one transaction with ``cast_key`` and ``outbox``.

def volume_managed(context, volume_id: str, host: str,
                   cluster_name: str | None, outbox: list[dict[str, Any]],
                   cast_key: str) -> None:
    """Cinder mode: the pool chosen for a volume being managed: its host
    (``host@backend#pool``) and cluster_name. VolumeNotFound for a volume
    missing or deleted."""
    return _impl().volume_managed(context, volume_id, host, cluster_name,
                                  outbox, cast_key)


def volume_manage_refused(context, volume_id: str,
                          outbox: list[dict[str, Any]],
                          cast_key: str) -> None:
    """Cinder mode: the volume's status set to ``error_managing``."""
    return _impl().volume_manage_refused(context, volume_id, outbox,
                                         cast_key)


def group_hand_off(context, group_id: str, host: str,
                   cluster_name: str | None, updated_at,
                   outbox: list[dict[str, Any]], cast_key: str) -> None:
    """Cinder mode: the group's host, cluster_name and updated_at, with
    the onward create_group cast. NotFound for a deleted group."""
    return _impl().group_hand_off(context, group_id, host, cluster_name,
                                  updated_at, outbox, cast_key)


def group_refused(context, group_id: str, outbox: list[dict[str, Any]],
                  cast_key: str) -> None:
    """Cinder mode: the group's status set to ``error``."""
    return _impl().group_refused(context, group_id, outbox, cast_key)


def services_for_cleanup(context, filters: dict[str, Any],
                         down_time: int) -> list[dict[str, Any]]:
    """Cinder mode: the live services work_cleanup's filters (binary,
    cluster_name, disabled, host, is_up; None ignored) select, each with
    ``is_up``, by id."""
    return _impl().services_for_cleanup(context, filters, down_time)


def workers_cleanup(context, claimer_id: int, filters: dict[str, Any],
                    until) -> list[dict[str, Any]]:
    """Cinder mode: do_cleanup of the scheduler, one transaction: claim
    the matching workers rows, set Volumes still ``creating`` to
    ``error``, delete the rows; the rows cleaned."""
    return _impl().workers_cleanup(context, claimer_id, filters, until)
