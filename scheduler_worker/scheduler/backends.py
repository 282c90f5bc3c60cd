"""Capability reports in, backends and pools out, shared through the database.

Every worker receives each fanout report and applies it; the database keeps
the newest one per backend (ordered by the report's timestamp), so all
workers schedule from the same view. A backend whose latest report is older
than [scheduler] backend_down_time (by the receiving worker's clock) is
down. Static backends, registered by an operator, never go down.
"""

import datetime
import logging
from typing import Any

from oslo_config import cfg
from oslo_utils import timeutils

from scheduler_worker import exception
from scheduler_worker.db import api as db
from scheduler_worker.scheduler import capabilities as caps_mod
from scheduler_worker.scheduler import hosts

LOG = logging.getLogger(__name__)

VOLUME_SERVICE = 'volume'


def is_up(backend: dict[str, Any], down_time: int,
          now: datetime.datetime | None = None) -> bool:
    """Whether a backend is static or reported in the last ``down_time`` s."""
    if backend['static']:
        return True
    last = backend['updated_at'] or backend['created_at']
    now = now or timeutils.utcnow()
    return (timeutils.normalize_time(now) -
            timeutils.normalize_time(last)).total_seconds() <= down_time


def _reported_at(host: str, timestamp: Any) -> datetime.datetime:
    """The report's time (UTC, naive), never later than our clock.

    NOTE: clamped so that a sender whose clock runs ahead cannot make its
    later, corrected reports look stale.
    """
    now = timeutils.utcnow()
    if timestamp is None:
        return now
    try:
        if not isinstance(timestamp, datetime.datetime):
            timestamp = timeutils.parse_isotime(str(timestamp))
    except ValueError as exc:
        raise exception.InvalidCapabilities(
            host=host, reason='timestamp %r is not an ISO 8601 time'
            % (str(timestamp)[:40],)) from exc
    return min(timeutils.normalize_time(timestamp), now)


class BackendRegistry:
    """Records capability reports; registers static backends."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.default_availability_zone = \
            conf.scheduler.default_availability_zone
        self.default_ratio = conf.scheduler.max_over_subscription_ratio

    def update_service_capabilities(
            self, context, service_name: Any, host: Any, capabilities: Any,
            cluster_name: Any = None, timestamp: Any = None,
            static: bool = False) -> bool:
        """Store a report as Cinder's volume services send it.

        Returns whether it was stored: reports of other services, and
        reports not newer than the stored one, are ignored. Raises
        InvalidCapabilities for a report that cannot be read.
        """
        if service_name != VOLUME_SERVICE:
            LOG.debug('Ignoring capabilities of service %r on %r',
                      service_name, host)
            return False
        problems = caps_mod.problems(host, capabilities)
        if cluster_name is not None and not (
                isinstance(cluster_name, str) and len(cluster_name) <= 255):
            problems.append('cluster_name must be a string of at most 255 '
                            'characters')
        if problems:
            raise exception.InvalidCapabilities(
                host=str(host)[:255], reason='; '.join(problems))
        backend = {'host': host, 'service_name': service_name,
                   'cluster_name': cluster_name,
                   'capabilities': {k: v for k, v in capabilities.items()
                                    if k != 'pools'},
                   'reported_at': _reported_at(host, timestamp)}
        pools = caps_mod.pool_records(host, capabilities,
                                      self.default_availability_zone,
                                      self.default_ratio)
        stored = db.backend_report(context, backend, pools, static=static)
        LOG.debug('Capabilities of %s (%d pools, reported at %s) %s', host,
                  len(pools), backend['reported_at'],
                  'stored' if stored else 'ignored: not newer than stored')
        return stored

    def register_static(self, context, pool_host: str, total_gb: float,
                        free_gb: float | None = None,
                        availability_zone: str | None = None,
                        thin: bool = False,
                        max_over_subscription_ratio: str | None = None,
                        reserved_percentage: float = 0,
                        extra: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
        """Register (or update) a pool that never expires; return its backend.

        ``pool_host`` is host@backend#pool; other pools already registered
        for the same backend are kept.
        """
        backend_host = hosts.extract_host(pool_host, 'backend')
        pool_name = hosts.extract_host(pool_host, 'pool') or \
            backend_host.partition('@')[2] or hosts.DEFAULT_POOL_NAME
        pool = dict(extra or {}, pool_name=pool_name,
                    total_capacity_gb=total_gb,
                    free_capacity_gb=total_gb if free_gb is None
                    else free_gb,
                    reserved_percentage=reserved_percentage,
                    thin_provisioning_support=thin,
                    thick_provisioning_support=not thin,
                    availability_zone=availability_zone or
                    self.default_availability_zone)
        if max_over_subscription_ratio is not None:
            pool['max_over_subscription_ratio'] = max_over_subscription_ratio
        pools = [p for p in self._registered_pools(context, backend_host)
                 if p['pool_name'] != pool_name] + [pool]
        capabilities = {'volume_backend_name':
                        backend_host.partition('@')[2] or backend_host,
                        'storage_protocol': 'static', 'pools': pools}
        self.update_service_capabilities(context, VOLUME_SERVICE,
                                         backend_host, capabilities,
                                         static=True)
        return db.backend_get(context, backend_host)

    @staticmethod
    def _registered_pools(context, backend_host: str) -> list[dict]:
        try:
            backend = db.backend_get(context, backend_host)
        except exception.BackendNotFound:
            return []
        return [dict(p['capabilities'], pool_name=p['name'])
                for p in backend['pools']]
