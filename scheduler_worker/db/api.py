"""The DB API facade: thin functions over the configured backend.

Callers import this module, never the backend. The facade is built on
first use, from the [database] options parsed by then: ``backend`` picks
the backend, and ``use_db_reconnect``, ``db_max_retries``,
``db_retry_interval``, ``db_inc_retry_interval`` and
``db_max_retry_interval`` are the one retry policy, which oslo.db's DBAPI
wraps around each whole transaction the backend marks retriable.
"""

from collections.abc import Callable
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
                      outbox: list[dict[str, Any]]) -> None:
    """Insert volumes and notifications, claim capacity: one transaction.

    Each claim ({'pool_id', 'host', 'size', 'thick'}) adds a share to its
    pool; give them in pool id order. Raises DBDuplicateEntry if an id is
    taken, CapacityClaimFailed if a pool has no room left for its share;
    either way nothing is stored.
    """
    return _impl().volume_create_all(context, volumes, claims, outbox)


def volume_get_existing(context, volume_ids: list[str]) -> set[str]:
    """Which of these ids are taken, by live or deleted volumes."""
    return _impl().volume_get_existing(context, volume_ids)


def volume_get(context, volume_id: str) -> dict[str, Any]:
    """The volume with this id; raises VolumeNotFound."""
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


def service_get_or_create(context, host: str, binary: str,
                          topic: str) -> dict[str, Any]:
    """The services row of (host, binary), created if missing."""
    return _impl().service_get_or_create(context, host, binary, topic)


def service_get_by_host_and_binary(context, host: str,
                                   binary: str) -> dict[str, Any]:
    return _impl().service_get_by_host_and_binary(context, host, binary)


def service_get_all(context,
                    binary: str | None = None) -> list[dict[str, Any]]:
    return _impl().service_get_all(context, binary=binary)


def service_heartbeat(context, service_id: int) -> dict[str, Any]:
    """Record that the service is alive now."""
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
    """Every live pool, each with its backend under 'backend'."""
    return _impl().pool_get_all(context)
