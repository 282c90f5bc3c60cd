"""SQLAlchemy models: our tables, as the migrations create them."""

from oslo_db.sqlalchemy import models
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql

# NOTE: MySQL's DATETIME drops microseconds unless asked; heartbeats and
# scheduling times are compared at sub-second precision.
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')

NAMING_CONVENTION = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}

TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


class Base(models.ModelBase, orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class SoftDeleteTimestamps:
    """Cinder's bookkeeping columns: rows are marked deleted, not removed."""

    created_at = sa.Column(DateTime, default=timeutils.utcnow,
                           nullable=False)
    updated_at = sa.Column(DateTime, onupdate=timeutils.utcnow)
    deleted_at = sa.Column(DateTime)
    deleted = sa.Column(sa.Boolean, default=False, nullable=False)


class Volume(SoftDeleteTimestamps, Base):
    __tablename__ = 'volumes'
    __table_args__ = (
        sa.Index('ix_volumes_host', 'host'),
        sa.Index('ix_volumes_project_id', 'project_id'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    user_id = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255))
    host = sa.Column(sa.String(255))
    cluster_name = sa.Column(sa.String(255))
    size = sa.Column(sa.Integer)
    availability_zone = sa.Column(sa.String(255))
    status = sa.Column(sa.String(255), nullable=False)
    attach_status = sa.Column(sa.String(255))
    scheduled_at = sa.Column(DateTime)
    launched_at = sa.Column(DateTime)
    terminated_at = sa.Column(DateTime)
    display_name = sa.Column(sa.String(255))
    display_description = sa.Column(sa.String(255))
    volume_type_id = sa.Column(sa.String(36))
    snapshot_id = sa.Column(sa.String(36))
    source_volid = sa.Column(sa.String(36))
    bootable = sa.Column(sa.Boolean, default=False, nullable=False)
    multiattach = sa.Column(sa.Boolean, default=False, nullable=False)

    volume_metadata = orm.relationship(
        'VolumeMetadata', back_populates='volume', lazy='selectin',
        primaryjoin='and_(Volume.id == VolumeMetadata.volume_id, '
                    'VolumeMetadata.deleted == False)')


class VolumeMetadata(SoftDeleteTimestamps, Base):
    __tablename__ = 'volume_metadata'
    __table_args__ = (
        sa.Index('ix_volume_metadata_volume_id', 'volume_id'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    volume_id = sa.Column(sa.String(36), sa.ForeignKey('volumes.id'),
                          nullable=False)
    key = sa.Column(sa.String(255), nullable=False)
    value = sa.Column(sa.String(255))

    volume = orm.relationship('Volume', back_populates='volume_metadata')


class Service(SoftDeleteTimestamps, Base):
    __tablename__ = 'services'
    __table_args__ = (
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    host = sa.Column(sa.String(255), nullable=False)
    binary = sa.Column(sa.String(255), nullable=False)
    topic = sa.Column(sa.String(255))
    report_count = sa.Column(sa.Integer, default=0, nullable=False)
    disabled = sa.Column(sa.Boolean, default=False, nullable=False)
    disabled_reason = sa.Column(sa.String(255))


class OutboxMessage(Base):
    """A message committed with the state it reports, waiting to be sent.

    Written in the transaction that records the outcome, deleted once the
    broker confirmed it: a crash in between leaves the row, and the relay
    sends it again, byte for byte. A row says what it is (``kind``: a
    notification, or an RPC cast) and where it goes: the routing key is
    ``topic``, or ``topic.server`` when a server is named, on ``exchange``.
    """

    __tablename__ = 'scheduler_worker_outbox'
    __table_args__ = (
        sa.Index('ix_scheduler_worker_outbox_next_attempt_at',
                 'next_attempt_at'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    kind = sa.Column(sa.String(16), nullable=False)
    exchange = sa.Column(sa.String(255), nullable=False)
    topic = sa.Column(sa.String(255), nullable=False)
    server = sa.Column(sa.String(255))
    # NOTE: the message exactly as oslo.messaging's AMQP driver puts it on
    # the wire (envelope, unique id, context keys), as JSON.
    body = sa.Column(sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql',
                                            'mariadb'), nullable=False)
    created_at = sa.Column(DateTime, default=timeutils.utcnow,
                           nullable=False)
    # NOTE: publishes that were tried and not confirmed; the relay takes a
    # row again once next_attempt_at has passed.
    attempts = sa.Column(sa.Integer, default=0, nullable=False)
    next_attempt_at = sa.Column(DateTime, nullable=False)


# NOTE: capability reports are free-form JSON; MySQL's TEXT stops at 64 KiB.
JsonText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')


class Backend(SoftDeleteTimestamps, Base):
    """A volume backend (``host@backend``) and its latest capability report.

    ``updated_at`` is when a worker received the latest report (the
    worker's clock: it decides whether the backend is up); ``reported_at``
    is the report's own timestamp (the sender's clock: it orders reports).
    """

    __tablename__ = 'scheduler_worker_backends'
    __table_args__ = (
        sa.UniqueConstraint('host',
                            name='uniq_scheduler_worker_backends0host'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    host = sa.Column(sa.String(255), nullable=False)
    service_name = sa.Column(sa.String(255))
    cluster_name = sa.Column(sa.String(255))
    # NOTE: the report without its pools, as JSON.
    capabilities = sa.Column(JsonText, nullable=False)
    reported_at = sa.Column(DateTime, nullable=False)
    static = sa.Column(sa.Boolean, default=False, nullable=False)


class Pool(SoftDeleteTimestamps, Base):
    """A pool of a backend: where volumes are placed and capacity claimed.

    ``allocated_gb`` is what volumes placed here claimed; capability
    reports never change it (in Cinder mode it is not used: a pool's
    allocation is derived from Cinder's volumes, see db/cinder/api.py).
    The limits are derived from the latest report
    (see scheduler/capabilities.py); NULL means unlimited. A pool missing
    from the latest report is marked deleted, and keeps its claims should
    it come back.
    """

    __tablename__ = 'scheduler_worker_pools'
    __table_args__ = (
        sa.UniqueConstraint('host', name='uniq_scheduler_worker_pools0host'),
        sa.Index('ix_scheduler_worker_pools_backend_id', 'backend_id'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    backend_id = sa.Column(sa.Integer,
                           sa.ForeignKey('scheduler_worker_backends.id'),
                           nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    # NOTE: host@backend#pool, exactly what a volume's host holds.
    host = sa.Column(sa.String(255), nullable=False)
    availability_zone = sa.Column(sa.String(255), nullable=False)
    # NOTE: the pool's report with the backend-level values filled in.
    capabilities = sa.Column(JsonText, nullable=False)
    allocated_gb = sa.Column(sa.Integer, default=0, nullable=False)
    physical_limit_gb = sa.Column(sa.Integer)
    virtual_limit_gb = sa.Column(sa.Integer)


class HandledCast(Base):
    """A cast whose outcome is stored: its redelivery changes nothing.

    The key names the cast (e.g. ``create_volume:<id>:<attempt>``); it is
    inserted in the transaction that stores the outcome, so a second
    delivery fails on the primary key and stores nothing.
    """

    __tablename__ = 'scheduler_worker_handled_casts'
    __table_args__ = (TABLE_ARGS,)

    key = sa.Column(sa.String(255), primary_key=True)
    created_at = sa.Column(DateTime, default=timeutils.utcnow,
                           nullable=False)
