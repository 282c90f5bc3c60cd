"""Alembic environment: migrates the connection db_sync hands over."""

from alembic import context

from scheduler_worker.db.sqlalchemy import models

target_metadata = models.Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=target_metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
