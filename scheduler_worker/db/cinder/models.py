"""Cinder 29's tables, as far as the scheduler reads and writes them.

Declared on a MetaData of their own, which no migration of ours ever
sees: the tables are Cinder's (``cinder-manage db sync`` creates and
upgrades them). Only the columns the Cinder backend touches are named;
the types are those of Cinder 29's schema (doc/cinder-scheduler-
reference.md §6). Cinder's ``deleted``, ``created_at`` and ``updated_at``
have no server default: every insert writes them.

Our own tables in Cinder's database are the standalone models'
(scheduler_worker.db.sqlalchemy.models: scheduler_worker_outbox,
scheduler_worker_backends, scheduler_worker_pools,
scheduler_worker_handled_casts), created by db/cinder/migrations.
"""

import sqlalchemy as sa

metadata = sa.MetaData()


def _bookkeeping() -> list[sa.Column]:
    return [sa.Column('created_at', sa.DateTime),
            sa.Column('updated_at', sa.DateTime),
            sa.Column('deleted_at', sa.DateTime),
            sa.Column('deleted', sa.Boolean)]


volumes = sa.Table(
    'volumes', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('user_id', sa.String(255)),
    sa.Column('project_id', sa.String(255)),
    sa.Column('host', sa.String(255)),
    sa.Column('cluster_name', sa.String(255)),
    sa.Column('size', sa.Integer),
    sa.Column('availability_zone', sa.String(255)),
    sa.Column('status', sa.String(255)),
    sa.Column('previous_status', sa.String(255)),
    sa.Column('migration_status', sa.String(255)),  # retype, migrations
    sa.Column('attach_status', sa.String(255)),
    sa.Column('scheduled_at', sa.DateTime),
    sa.Column('launched_at', sa.DateTime),
    sa.Column('terminated_at', sa.DateTime),
    sa.Column('display_name', sa.String(255)),
    sa.Column('display_description', sa.String(255)),
    sa.Column('volume_type_id', sa.String(36)),
    sa.Column('snapshot_id', sa.String(36)),
    sa.Column('source_volid', sa.String(36)),
    sa.Column('bootable', sa.Boolean),
    sa.Column('multiattach', sa.Boolean),
    *_bookkeeping())

volume_metadata = sa.Table(
    'volume_metadata', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('volume_id', sa.String(36), nullable=False),
    sa.Column('key', sa.String(255)),
    sa.Column('value', sa.String(255)),
    *_bookkeeping())

services = sa.Table(
    'services', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('uuid', sa.String(36)),
    sa.Column('host', sa.String(255)),
    sa.Column('binary', sa.String(255)),
    sa.Column('topic', sa.String(255)),
    sa.Column('report_count', sa.Integer, nullable=False),
    sa.Column('disabled', sa.Boolean),
    sa.Column('disabled_reason', sa.String(255)),
    sa.Column('availability_zone', sa.String(255)),
    sa.Column('cluster_name', sa.String(255)),
    sa.Column('modified_at', sa.DateTime),
    sa.Column('rpc_current_version', sa.String(36)),
    sa.Column('object_current_version', sa.String(36)),
    sa.Column('replication_status', sa.String(36)),
    sa.Column('active_backend_id', sa.String(255)),
    sa.Column('frozen', sa.Boolean),
    *_bookkeeping())

messages = sa.Table(
    'messages', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('project_id', sa.String(255), nullable=False),
    sa.Column('request_id', sa.String(255)),
    sa.Column('resource_type', sa.String(36)),
    sa.Column('resource_uuid', sa.String(255)),
    sa.Column('event_id', sa.String(255), nullable=False),
    sa.Column('message_level', sa.String(255), nullable=False),
    sa.Column('detail_id', sa.String(10)),
    sa.Column('action_id', sa.String(10)),
    sa.Column('expires_at', sa.DateTime),
    *_bookkeeping())

workers = sa.Table(
    'workers', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('resource_type', sa.String(40), nullable=False),
    sa.Column('resource_id', sa.String(36), nullable=False),
    sa.Column('status', sa.String(255), nullable=False),
    sa.Column('service_id', sa.Integer),
    sa.Column('race_preventer', sa.Integer, nullable=False),
    *_bookkeeping())

quota_usages = sa.Table(
    'quota_usages', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('project_id', sa.String(255)),
    sa.Column('resource', sa.String(300)),
    sa.Column('in_use', sa.Integer, nullable=False),
    sa.Column('reserved', sa.Integer, nullable=False),
    sa.Column('until_refresh', sa.Integer),
    sa.Column('race_preventer', sa.Boolean),
    *_bookkeeping())

reservations = sa.Table(
    'reservations', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('uuid', sa.String(36), nullable=False),
    sa.Column('usage_id', sa.Integer),
    sa.Column('project_id', sa.String(255)),
    sa.Column('resource', sa.String(300)),
    sa.Column('delta', sa.Integer, nullable=False),
    sa.Column('expire', sa.DateTime),
    *_bookkeeping())

snapshots = sa.Table(
    'snapshots', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('volume_id', sa.String(36), nullable=False),
    sa.Column('status', sa.String(255)),
    sa.Column('project_id', sa.String(255)),
    sa.Column('volume_size', sa.Integer),
    *_bookkeeping())

backups = sa.Table(
    'backups', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('volume_id', sa.String(36), nullable=False),
    sa.Column('host', sa.String(255)),
    sa.Column('availability_zone', sa.String(255)),
    sa.Column('status', sa.String(255)),
    sa.Column('fail_reason', sa.String(255)),
    sa.Column('project_id', sa.String(255)),
    *_bookkeeping())

# get_pools' volume_type filter (reference §5.2): read only.
volume_types = sa.Table(
    'volume_types', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('name', sa.String(255)),
    *_bookkeeping())

volume_type_extra_specs = sa.Table(
    'volume_type_extra_specs', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('volume_type_id', sa.String(36), nullable=False),
    sa.Column('key', sa.String(255)),
    sa.Column('value', sa.String(255)),
    *_bookkeeping())

alembic_version = sa.Table(
    'alembic_version', metadata,
    sa.Column('version_num', sa.String(32), primary_key=True))

# NOTE: create_group (issue 11): the scheduler writes host, cluster_name,
# status and updated_at of the group cinder-api inserted.
groups = sa.Table(
    'groups', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('project_id', sa.String(255)),
    sa.Column('host', sa.String(255)),
    sa.Column('cluster_name', sa.String(255)),
    sa.Column('availability_zone', sa.String(255)),
    sa.Column('status', sa.String(255)),
    sa.Column('group_type_id', sa.String(36)),
    *_bookkeeping())
