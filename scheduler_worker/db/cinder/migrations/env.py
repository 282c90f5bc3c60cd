"""Alembic environment of Cinder mode: only our tables, in Cinder's DB.

Its own version table (``scheduler_worker_alembic_version``): Cinder's
``alembic_version`` is Cinder's, read by db sync, never written.
"""

from alembic import context

from scheduler_worker.db.cinder import schema

VERSION_TABLE = 'scheduler_worker_alembic_version'
target_metadata = schema.metadata


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    # NOTE: autogenerate and comparisons look at our tables only; the
    # rest of the database is Cinder's.
    if type_ == 'table':
        return name in schema.metadata.tables
    return True


def run_migrations_online() -> None:
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=target_metadata,
                      version_table=VERSION_TABLE,
                      include_object=_ours)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
