"""The DB API facade: thin functions over the configured backend.

Callers import this module, never the backend. The backend is loaded on
first use (``lazy=True``), so the [database] options parsed at start-up
decide which database is used.
"""

from collections.abc import Callable
from typing import Any

from oslo_db import api as oslo_db_api

from scheduler_worker import conf

_BACKEND_MAPPING = {'sqlalchemy': 'scheduler_worker.db.sqlalchemy.api'}

IMPL = oslo_db_api.DBAPI.from_config(conf.CONF,
                                     backend_mapping=_BACKEND_MAPPING,
                                     lazy=True)


def ping(context) -> None:
    """Raise unless the database answers."""
    return IMPL.ping(context)


def pool_checked_out() -> int:
    """Database connections this process has in use right now."""
    return IMPL.pool_checked_out()


def volume_create(context, values: dict[str, Any],
                  outbox: list[dict[str, Any]] | None = None,
                  claim: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create a volume with its notifications, in one transaction.

    With ``claim`` ({'pool_id', 'host', 'size', 'thick'}) the volume's size
    is claimed from its pool in the same transaction. Raises VolumeExists
    if the id is already taken, CapacityClaimFailed if the pool has no room
    left; either way nothing is stored.
    """
    return IMPL.volume_create(context, values, outbox=outbox, claim=claim)


def writer(context):
    """A transaction that the functions called inside it join.

    Only pool_claim and volume_insert_many are meant for it; retry the
    whole block from outside with oslo_db.api.wrap_db_retry.
    """
    return IMPL.writer(context)


def pool_claim(context, claim: dict[str, Any]) -> None:
    """Claim a pool's capacity, in the caller's transaction.

    Raises CapacityClaimFailed (and changes nothing) if it has no room.
    """
    return IMPL.pool_claim(context, claim)


def volume_insert_many(context, volumes: list[dict[str, Any]],
                       outbox: list[dict[str, Any]]) -> None:
    """Insert volumes with their notifications, in the caller's transaction.

    A taken id raises oslo.db's DBDuplicateEntry.
    """
    return IMPL.volume_insert_many(context, volumes, outbox)


def volume_get(context, volume_id: str) -> dict[str, Any]:
    """The volume with this id; raises VolumeNotFound."""
    return IMPL.volume_get(context, volume_id)


def volume_get_all(context, filters: dict[str, Any] | None = None,
                   limit: int | None = None) -> list[dict[str, Any]]:
    """Volumes matching equality filters, newest first."""
    return IMPL.volume_get_all(context, filters=filters, limit=limit)


def volume_count_by_host(context, hosts: list[str]) -> dict[str, int]:
    """Live volumes (not deleted, not in error) on each of these hosts."""
    return IMPL.volume_count_by_host(context, hosts)


def volume_update(context, volume_id: str, values: dict[str, Any],
                  expected: dict[str, Any] | None = None,
                  outbox: list[dict[str, Any]] | None = None
                  ) -> dict[str, Any]:
    """Update a volume if its columns hold ``expected``; VolumeNotFound."""
    return IMPL.volume_update(context, volume_id, values, expected=expected,
                              outbox=outbox)


def outbox_add(context, outbox: list[dict[str, Any]]) -> None:
    """Store messages that report no stored outcome."""
    return IMPL.outbox_add(context, outbox)


def outbox_send(context, send: Callable[[list[dict[str, Any]]], dict],
                ids: list[str] | None = None, limit: int = 100) -> int:
    """Claim outbox rows, send them with the claim held, settle them.

    No other process sends a claimed row until this returns (see the
    backend for how each database holds the claim). ``ids``: those rows,
    if no one tried them yet; otherwise up to ``limit`` due rows. send()
    returns {id: None} to forget a row and {id: datetime} to try it again
    then. Returns how many rows were claimed.
    """
    return IMPL.outbox_send(context, send, ids=ids, limit=limit)


def outbox_stats(context) -> dict[str, dict[str, Any]]:
    """Rows waiting in the outbox by kind, and the oldest one's created_at."""
    return IMPL.outbox_stats(context)


def service_create(context, values: dict[str, Any]) -> dict[str, Any]:
    return IMPL.service_create(context, values)


def service_get_or_create(context, host: str, binary: str,
                          topic: str) -> dict[str, Any]:
    """The services row of (host, binary), created if missing."""
    return IMPL.service_get_or_create(context, host, binary, topic)


def service_get_by_host_and_binary(context, host: str,
                                   binary: str) -> dict[str, Any]:
    return IMPL.service_get_by_host_and_binary(context, host, binary)


def service_get_all(context,
                    binary: str | None = None) -> list[dict[str, Any]]:
    return IMPL.service_get_all(context, binary=binary)


def service_heartbeat(context, service_id: int) -> dict[str, Any]:
    """Record that the service is alive now."""
    return IMPL.service_heartbeat(context, service_id)


def backend_report(context, backend: dict[str, Any],
                   pools: list[dict[str, Any]], static: bool = False) -> bool:
    """Store a backend's capability report with its pools, atomically.

    Returns False, storing nothing, when the stored report is as new or
    newer. Pools missing from the report are marked deleted; the capacity
    claimed from a pool is never changed by a report.
    """
    return IMPL.backend_report(context, backend, pools, static=static)


def backend_get(context, host: str) -> dict[str, Any]:
    """The backend ``host@backend`` with its live pools; BackendNotFound."""
    return IMPL.backend_get(context, host)


def backend_get_all(context) -> list[dict[str, Any]]:
    """Every backend with its live pools."""
    return IMPL.backend_get_all(context)


def pool_get_all(context) -> list[dict[str, Any]]:
    """Every live pool, each with its backend under 'backend'."""
    return IMPL.pool_get_all(context)
