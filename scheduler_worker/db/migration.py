"""Schema migrations with alembic: upgrade, and report the revision."""

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
import sqlalchemy as sa

from scheduler_worker.db.sqlalchemy import api as sqla_api

_SCRIPT_LOCATION = 'scheduler_worker.db.sqlalchemy:migrations'


def _config(connection: sa.engine.Connection) -> alembic_config.Config:
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


def _engine(engine: sa.engine.Engine | None) -> sa.engine.Engine:
    return engine if engine is not None else sqla_api.get_engine()


def db_sync(version: str = 'head',
            engine: sa.engine.Engine | None = None) -> None:
    """Upgrade the schema to ``version`` (default: the newest)."""
    with _engine(engine).begin() as connection:
        alembic_command.upgrade(_config(connection), version)


def db_version(engine: sa.engine.Engine | None = None) -> str | None:
    """The schema revision of the database, None when never synced."""
    with _engine(engine).connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()


def head_version() -> str:
    """The newest revision this code ships."""
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    scripts = alembic_script.ScriptDirectory.from_config(config)
    return scripts.get_current_head()
