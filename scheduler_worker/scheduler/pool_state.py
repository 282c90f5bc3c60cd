"""A pool as filters and weighers see it: report, claims, up or down."""

import datetime
from typing import Any

from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import capabilities as caps_mod
from scheduler_worker.scheduler import hosts


class PoolState:
    """One pool, read from the database for one scheduling decision.

    Attribute names follow Cinder's PoolState, so filters read alike.
    ``allocated_gb`` is what volumes placed here claimed, across all
    workers; ``available_gb()`` what is left under the pool's limit.
    """

    def __init__(self, row: dict[str, Any], down_time: int,
                 default_ratio: str | float = 20.0,
                 now: datetime.datetime | None = None) -> None:
        caps = row['capabilities']
        self.row = row
        self.id = row['id']
        self.host = row['host']
        self.backend_id = hosts.extract_host(self.host, 'backend')
        self.pool_name = row['name']
        self.availability_zone = row['availability_zone']
        self.cluster_name = row['backend']['cluster_name']
        self.capabilities = caps
        self.allocated_gb = row['allocated_gb']
        self.physical_limit_gb = row['physical_limit_gb']
        self.virtual_limit_gb = row['virtual_limit_gb']
        self.is_up = backends.is_up(row['backend'], down_time, now)
        self.total_capacity_gb = caps_mod.capacity(
            caps.get('total_capacity_gb'))
        self.free_capacity_gb = caps_mod.capacity(
            caps.get('free_capacity_gb'))
        self.reserved_percentage = caps_mod.number(
            caps.get('reserved_percentage'))
        self.allocated_capacity_gb = caps_mod.number(
            caps.get('allocated_capacity_gb'))
        self.provisioned_capacity_gb = caps_mod.number(
            caps.get('provisioned_capacity_gb'), self.allocated_capacity_gb)
        self.thin_provisioning_support = caps_mod.boolean(
            caps.get('thin_provisioning_support', False))
        self.thick_provisioning_support = caps_mod.boolean(
            caps.get('thick_provisioning_support', False))
        self.max_over_subscription_ratio = \
            caps_mod.over_subscription_ratio(caps, default_ratio)

    @property
    def cinder_backend_id(self) -> str:
        """Cinder's BackendState.backend_id for this pool: the pool-level
        cluster name when the backend is clustered, else its host."""
        if self.cluster_name:
            return hosts.append_host(self.cluster_name, self.pool_name)
        return self.host

    def limit_gb(self, thick: bool) -> int | None:
        """The pool's limit for a thick or thin volume; None: unlimited."""
        return self.physical_limit_gb if thick else self.virtual_limit_gb

    def available_gb(self, thick: bool) -> int | None:
        """GiB still unclaimed under the limit; None: unlimited."""
        limit = self.limit_gb(thick)
        return None if limit is None else limit - self.allocated_gb

    def claim(self, size: int, thick: bool) -> dict[str, Any]:
        """What db.api.volume_create needs to claim ``size`` GiB here."""
        return {'pool_id': self.id, 'host': self.host, 'size': size,
                'thick': thick}

    def __repr__(self) -> str:
        return ('PoolState(%s, zone=%s, up=%s, allocated=%s, physical=%s, '
                'virtual=%s)' % (self.host, self.availability_zone,
                                 self.is_up, self.allocated_gb,
                                 self.physical_limit_gb,
                                 self.virtual_limit_gb))
