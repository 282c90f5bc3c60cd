"""Notification outbox: notifications committed with their outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')
Body = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table(
        'notification_outbox',
        sa.Column('message_id', sa.String(36), nullable=False),
        sa.Column('priority', sa.String(16), nullable=False),
        sa.Column('event_type', sa.String(255), nullable=False),
        sa.Column('body', Body, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint('message_id', name='pk_notification_outbox'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )
    op.create_index('ix_notification_outbox_created_at',
                    'notification_outbox', ['created_at'])
