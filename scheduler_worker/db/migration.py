"""Schema migrations with alembic: upgrade, and report the revision.

Two histories. Standalone mode (the default): our whole schema, in
scheduler_worker/db/sqlalchemy/migrations, version table
``alembic_version``. Cinder mode (``cinder=True``, decided by the caller
with db.api.is_cinder): only our own tables, in Cinder's database, in
scheduler_worker/db/cinder/migrations, version table
``scheduler_worker_alembic_version``; Cinder's ``alembic_version`` is
read, to refuse a database without Cinder's schema or with a version of
it we do not support, and never written.
"""

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
import sqlalchemy as sa

from scheduler_worker import exception
from scheduler_worker.db.sqlalchemy import api as sqla_api

_SCRIPT_LOCATION = 'scheduler_worker.db.sqlalchemy:migrations'
_CINDER_SCRIPT_LOCATION = 'scheduler_worker.db.cinder:migrations'
CINDER_VERSION_TABLE = 'scheduler_worker_alembic_version'

# NOTE: Cinder's alembic heads whose schema the Cinder backend was
# written and tested against (doc/cinder-scheduler-reference.md §6).
SUPPORTED_CINDER_VERSIONS = {'9c74c1c6971f': 'Cinder 29 (2024.2)'}


class CinderSchemaRefused(exception.Invalid):
    """The database is no Cinder database db sync may add our tables to."""

    msg_fmt = '%(reason)s'


def _location(cinder: bool) -> str:
    return _CINDER_SCRIPT_LOCATION if cinder else _SCRIPT_LOCATION


def _config(connection: sa.engine.Connection,
            cinder: bool) -> alembic_config.Config:
    config = alembic_config.Config()
    config.set_main_option('script_location', _location(cinder))
    config.attributes['connection'] = connection
    return config


def _engine(engine: sa.engine.Engine | None) -> sa.engine.Engine:
    return engine if engine is not None else sqla_api.get_engine()


def cinder_schema_version(connection: sa.engine.Connection) -> str | None:
    """Cinder's alembic revision in this database; None without one."""
    if not sa.inspect(connection).has_table('alembic_version'):
        return None
    return alembic_migration.MigrationContext.configure(
        connection).get_current_revision()


def check_cinder_schema(connection: sa.engine.Connection) -> str:
    """Cinder's schema version, if supported; else CinderSchemaRefused."""
    url = connection.engine.url.render_as_string(hide_password=True)
    found = cinder_schema_version(connection)
    if found is None:
        raise CinderSchemaRefused(reason=(
            'no Cinder schema in this database (%s): run cinder-manage db '
            'sync first' % url))
    if found not in SUPPORTED_CINDER_VERSIONS:
        raise CinderSchemaRefused(reason=(
            'Cinder schema version %s in %s is not supported; supported: '
            '%s' % (found, url, ', '.join(
                '%s (%s)' % item for item in
                sorted(SUPPORTED_CINDER_VERSIONS.items())))))
    return found


def db_sync(version: str = 'head', engine: sa.engine.Engine | None = None,
            cinder: bool = False) -> None:
    """Upgrade our schema to ``version`` (default: the newest).

    Cinder mode first checks Cinder's schema (CinderSchemaRefused), then
    creates or upgrades only our tables.
    """
    with _engine(engine).begin() as connection:
        if cinder:
            check_cinder_schema(connection)
        alembic_command.upgrade(_config(connection, cinder), version)


def db_version(engine: sa.engine.Engine | None = None,
               cinder: bool = False) -> str | None:
    """Our schema revision in the database, None when never synced."""
    with _engine(engine).connect() as connection:
        options = {'version_table': CINDER_VERSION_TABLE} if cinder else {}
        return alembic_migration.MigrationContext.configure(
            connection, opts=options).get_current_revision()


def head_version(cinder: bool = False) -> str:
    """The newest revision this code ships."""
    config = alembic_config.Config()
    config.set_main_option('script_location', _location(cinder))
    scripts = alembic_script.ScriptDirectory.from_config(config)
    return scripts.get_current_head()
