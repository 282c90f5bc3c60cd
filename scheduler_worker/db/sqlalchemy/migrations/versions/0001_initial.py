"""Initial schema: volumes, volume_metadata, services.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# NOTE: migrations are frozen history: types are spelled out here, not
# imported from the models, which keep changing.
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')
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
        'volumes',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('user_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('host', sa.String(255)),
        sa.Column('cluster_name', sa.String(255)),
        sa.Column('size', sa.Integer),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('status', sa.String(255), nullable=False),
        sa.Column('attach_status', sa.String(255)),
        sa.Column('scheduled_at', DateTime),
        sa.Column('launched_at', DateTime),
        sa.Column('terminated_at', DateTime),
        sa.Column('display_name', sa.String(255)),
        sa.Column('display_description', sa.String(255)),
        sa.Column('volume_type_id', sa.String(36)),
        sa.Column('snapshot_id', sa.String(36)),
        sa.Column('source_volid', sa.String(36)),
        sa.Column('bootable', sa.Boolean, nullable=False),
        sa.Column('multiattach', sa.Boolean, nullable=False),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint('id', name='pk_volumes'),
        **_TABLE_ARGS,
    )
    op.create_index('ix_volumes_host', 'volumes', ['host'])
    op.create_index('ix_volumes_project_id', 'volumes', ['project_id'])

    op.create_table(
        'volume_metadata',
        sa.Column('id', sa.Integer, autoincrement=True, nullable=False),
        sa.Column('volume_id', sa.String(36), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', sa.String(255)),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint('id', name='pk_volume_metadata'),
        sa.ForeignKeyConstraint(
            ['volume_id'], ['volumes.id'],
            name='fk_volume_metadata_volume_id_volumes'),
        **_TABLE_ARGS,
    )
    op.create_index('ix_volume_metadata_volume_id', 'volume_metadata',
                    ['volume_id'])

    op.create_table(
        'services',
        sa.Column('id', sa.Integer, autoincrement=True, nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255)),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint('id', name='pk_services'),
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'),
        **_TABLE_ARGS,
    )
