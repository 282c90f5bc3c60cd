"""Backends and pools: capability reports, and the capacity volumes claim.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')
JsonText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')
_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _bookkeeping() -> list[sa.Column]:
    return [
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime),
        sa.Column('deleted_at', DateTime),
        sa.Column('deleted', sa.Boolean, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'backends',
        sa.Column('id', sa.Integer, autoincrement=True, nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('service_name', sa.String(255)),
        sa.Column('cluster_name', sa.String(255)),
        sa.Column('capabilities', JsonText, nullable=False),
        sa.Column('reported_at', DateTime, nullable=False),
        sa.Column('static', sa.Boolean, nullable=False),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint('id', name='pk_backends'),
        sa.UniqueConstraint('host', name='uniq_backends0host'),
        **_TABLE_ARGS,
    )
    op.create_table(
        'pools',
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
        sa.PrimaryKeyConstraint('id', name='pk_pools'),
        sa.UniqueConstraint('host', name='uniq_pools0host'),
        sa.ForeignKeyConstraint(['backend_id'], ['backends.id'],
                                name='fk_pools_backend_id_backends'),
        **_TABLE_ARGS,
    )
    op.create_index('ix_pools_backend_id', 'pools', ['backend_id'])
