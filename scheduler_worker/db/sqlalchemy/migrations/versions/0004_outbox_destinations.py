"""Outbox rows say where they go, and when to try them again.

A row is now one message to one destination (kind, exchange, topic,
server), so that RPC casts can go through the same outbox as
notifications, with its own id: a notification sent to two topics is two
rows. ``next_attempt_at`` is when the relay may take the row (again).

Rows pending at the upgrade are kept: they are notifications, addressed to
the defaults their worker used unless configured otherwise (exchange
``openstack``, topic ``notifications.<priority>``), and due at once. A
deployment with another control_exchange or notification topic lets the
relay empty the outbox before it upgrades.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')
Body = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')

_OLD = 'notification_outbox_0003'


def _create_table() -> sa.Table:
    return op.create_table(
        'notification_outbox',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('exchange', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255), nullable=False),
        sa.Column('server', sa.String(255)),
        sa.Column('body', Body, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('next_attempt_at', DateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_notification_outbox'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )


def upgrade() -> None:
    # NOTE: PostgreSQL names a primary key's index in the schema, not in
    # the table: the old table gives the name up before the new one
    # takes it.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE notification_outbox RENAME CONSTRAINT '
                   'pk_notification_outbox TO pk_%s' % _OLD)
    op.rename_table('notification_outbox', _OLD)
    new = _create_table()
    op.create_index('ix_notification_outbox_next_attempt_at',
                    'notification_outbox', ['next_attempt_at'])
    old = sa.table(_OLD, sa.column('message_id', sa.String),
                   sa.column('priority', sa.String),
                   sa.column('body', sa.Text),
                   sa.column('created_at', DateTime),
                   sa.column('attempts', sa.Integer))
    op.execute(new.insert().from_select(
        ['id', 'kind', 'exchange', 'topic', 'server', 'body', 'created_at',
         'attempts', 'next_attempt_at'],
        sa.select(old.c.message_id, sa.literal('notification'),
                  sa.literal('openstack'),
                  sa.literal('notifications.') + sa.func.lower(
                      old.c.priority),
                  sa.null(), old.c.body, old.c.created_at, old.c.attempts,
                  old.c.created_at)))
    op.drop_table(_OLD)
