"""Backup services' capability reports, and the backup host they offer.

cinder-backup reports ``{backend_state, driver_name, availability_zone}``
through the same fanout as volume services (service_name 'backup'). Each
worker keeps the last report of each backup host in memory: every worker
process receives every fanout, and asks for reports at start. Unlike
Cinder's (whose reports never expire, reference §7 trap 18), a host whose
last report is older than [scheduler] backend_down_time is not chosen.
"""

import datetime
import random
import threading
from typing import Any

from oslo_utils import timeutils

BACKUP_SERVICE = 'backup'


class BackupRegistry:
    """The last report of each backup host, and when it came."""

    def __init__(self, down_time: int) -> None:
        self.down_time = down_time
        self._reports: dict[str, tuple[dict[str, Any],
                                       datetime.datetime]] = {}
        self._lock = threading.Lock()

    def update(self, host: str, capabilities: dict[str, Any],
               now: datetime.datetime | None = None) -> None:
        with self._lock:
            self._reports[host] = (dict(capabilities),
                                   now or timeutils.utcnow())

    def hosts(self, availability_zone: str | None,
              now: datetime.datetime | None = None) -> list[str]:
        """Hosts whose fresh report says their driver works in this zone
        (Cinder's _list_backup_services)."""
        now = now or timeutils.utcnow()
        with self._lock:
            reports = list(self._reports.items())
        return sorted(
            host for host, (caps, at) in reports
            if caps.get('backend_state') is True and
            caps.get('availability_zone') == availability_zone and
            (now - at).total_seconds() <= self.down_time)

    def choose(self, availability_zone: str | None) -> str | None:
        """A random fitting host, as Cinder picks one; None if none fits."""
        candidates = self.hosts(availability_zone)
        return random.choice(candidates) if candidates else None
