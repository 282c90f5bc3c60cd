"""Our tables get names of their own; handled casts.

The outbox, backends and pools live beside Cinder's tables in Cinder mode
(db/cinder/migrations), so they are named there and here alike:
``scheduler_worker_outbox`` (was notification_outbox),
``scheduler_worker_backends`` (was backends) and
``scheduler_worker_pools`` (was pools), with their keys and indexes.
``scheduler_worker_handled_casts`` is new: the key of each cast whose
outcome is stored, so that a redelivered cast stores nothing twice.

The tables are created under their new names and the rows copied over
(ids kept, PostgreSQL's sequences moved past them), then the old tables
dropped: the same steps on SQLite, PostgreSQL and MariaDB, and every
constraint and index named as the models name it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')
JsonText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')
_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}

OUTBOX = 'scheduler_worker_outbox'
BACKENDS = 'scheduler_worker_backends'
POOLS = 'scheduler_worker_pools'
HANDLED_CASTS = 'scheduler_worker_handled_casts'

_RENAMED = (('notification_outbox', OUTBOX), ('backends', BACKENDS),
            ('pools', POOLS))


def _bookkeeping() -> list[sa.Column]:
    return [
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime),
        sa.Column('deleted_at', DateTime),
        sa.Column('deleted', sa.Boolean, nullable=False),
    ]


def create_tables() -> None:
    op.create_table(
        OUTBOX,
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('exchange', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255), nullable=False),
        sa.Column('server', sa.String(255)),
        sa.Column('body', JsonText, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('next_attempt_at', DateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_%s' % OUTBOX),
        **_TABLE_ARGS,
    )
    op.create_index('ix_%s_next_attempt_at' % OUTBOX, OUTBOX,
                    ['next_attempt_at'])
    op.create_table(
        BACKENDS,
        sa.Column('id', sa.Integer, autoincrement=True, nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('service_name', sa.String(255)),
        sa.Column('cluster_name', sa.String(255)),
        sa.Column('capabilities', JsonText, nullable=False),
        sa.Column('reported_at', DateTime, nullable=False),
        sa.Column('static', sa.Boolean, nullable=False),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint('id', name='pk_%s' % BACKENDS),
        sa.UniqueConstraint('host', name='uniq_%s0host' % BACKENDS),
        **_TABLE_ARGS,
    )
    op.create_table(
        POOLS,
        sa.Column('id', sa.Integer, autoincrement=True, nullable=False),
        sa.Column('backend_id', sa.Integer, nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('availability_zone', sa.String(255), nullable=False),
        sa.Column('capabilities', JsonText, nullable=False),
        sa.Column('allocated_gb', sa.Integer, nullable=False),
        sa.Column('physical_limit_gb', sa.Integer),
        sa.Column('virtual_limit_gb', sa.Integer),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint('id', name='pk_%s' % POOLS),
        sa.UniqueConstraint('host', name='uniq_%s0host' % POOLS),
        sa.ForeignKeyConstraint(['backend_id'], ['%s.id' % BACKENDS],
                                name='fk_%s_backend_id_%s' % (POOLS,
                                                              BACKENDS)),
        **_TABLE_ARGS,
    )
    op.create_index('ix_%s_backend_id' % POOLS, POOLS, ['backend_id'])
    op.create_table(
        HANDLED_CASTS,
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.PrimaryKeyConstraint('key', name='pk_%s' % HANDLED_CASTS),
        **_TABLE_ARGS,
    )


def upgrade() -> None:
    create_tables()
    bind = op.get_bind()
    for old, new in _RENAMED:
        columns = [c['name'] for c in sa.inspect(bind).get_columns(new)]
        op.execute('INSERT INTO %s (%s) SELECT %s FROM %s' % (
            new, ', '.join(columns), ', '.join(columns), old))
    if bind.dialect.name == 'postgresql':
        # NOTE: the copied ids were given, not drawn: the next insert
        # must not draw one of them.
        for table in (BACKENDS, POOLS):
            op.execute(
                "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
                "coalesce(max(id), 0) + 1, false) FROM %s" % (table, table))
    for old, _ in reversed(_RENAMED):
        op.drop_table(old)
