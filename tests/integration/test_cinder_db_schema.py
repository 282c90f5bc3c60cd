"""db sync in Cinder mode, on a real Cinder 29 schema made by cinder-manage.

On PostgreSQL and MariaDB.
"""

import subprocess
import unittest

from oslo_db.sqlalchemy import test_migrations
import pytest
import sqlalchemy as sa

from scheduler_worker.db import migration
from scheduler_worker.db.cinder import schema
from tests import fixtures

OURS = {'scheduler_worker_outbox', 'scheduler_worker_backends',
        'scheduler_worker_pools', 'scheduler_worker_handled_casts',
        migration.CINDER_VERSION_TABLE}


def _snapshot(engine) -> dict:
    """Every table's columns, indexes, keys and rows, as reflected."""
    inspector = sa.inspect(engine)
    quote = engine.dialect.identifier_preparer.quote
    found = {}
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            found[table] = {
                'columns': [(c['name'], str(c['type']), c['nullable'],
                             c['default']) for c in
                            inspector.get_columns(table)],
                'indexes': sorted(str(i) for i in inspector.get_indexes(
                    table)),
                'foreign_keys': sorted(str(k) for k in
                                       inspector.get_foreign_keys(table)),
                'rows': sorted(map(repr, connection.execute(sa.text(
                    'SELECT * FROM %s' % quote(table))))),
            }
    return found


@pytest.fixture(params=('postgresql', 'mysql'))
def cinder_engine(request):
    """An engine on a fresh copy of Cinder's schema, on each database."""
    template = request.getfixturevalue(
        'cinder_template' if request.param == 'postgresql' else
        'cinder_mysql_template')
    url = template.copy()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()
    fixtures.drop_database(url)


def test_db_sync_adds_only_our_tables_and_leaves_cinders_as_they_were(
        cinder_engine):
    before = _snapshot(cinder_engine)
    assert before['alembic_version']['rows'] == ["('9c74c1c6971f',)"]
    assert 'volumes' in before and 'workers' in before
    migration.db_sync(engine=cinder_engine, cinder=True)
    after = _snapshot(cinder_engine)
    assert set(after) - set(before) == OURS
    assert {name: after[name] for name in before} == before
    assert migration.db_version(engine=cinder_engine, cinder=True) == \
        migration.head_version(cinder=True)
    # NOTE: a second sync changes nothing, as deployment tools expect.
    migration.db_sync(engine=cinder_engine, cinder=True)
    assert _snapshot(cinder_engine) == after


@pytest.mark.parametrize('backend', ('postgresql', 'mysql'))
def test_db_sync_refuses_a_database_without_cinders_schema(backend,
                                                            tmp_path):
    url = fixtures.create_database(backend, tmp_path)
    # NOTE: PostgreSQL here trusts local connections, whatever the
    # password: a URL with one, to see it masked.
    engine = sa.create_engine(
        sa.engine.make_url(url).set(password='s3cret')
        if backend == 'postgresql' else url, poolclass=sa.pool.NullPool)
    try:
        with pytest.raises(migration.CinderSchemaRefused) as raised:
            migration.db_sync(engine=engine, cinder=True)
        tables = sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
        fixtures.drop_database(url)
    message = str(raised.value)
    assert 'no Cinder schema in this database' in message
    assert 'run cinder-manage db sync first' in message
    if backend == 'postgresql':
        assert 's3cret' not in message and '***' in message
    assert tables == []


def test_db_sync_refuses_a_cinder_schema_of_another_version(cinder_engine):
    with cinder_engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE alembic_version SET version_num = 'b7b88f50aab5'"))
    with pytest.raises(migration.CinderSchemaRefused) as raised:
        migration.db_sync(engine=cinder_engine, cinder=True)
    message = str(raised.value)
    assert 'b7b88f50aab5' in message and '9c74c1c6971f' in message
    assert not OURS & set(sa.inspect(cinder_engine).get_table_names())


def test_manage_db_sync_in_cinder_mode(cinder_db_url, tmp_path):
    config = fixtures.write_config(tmp_path / 'worker.conf', {
        'database': {'backend': 'cinder', 'connection': cinder_db_url}})
    output = fixtures.manage(config, 'db', 'sync')
    assert 'Database schema at %s' % migration.head_version(cinder=True) \
        in output
    assert fixtures.manage(config, 'db', 'version').strip() == \
        migration.head_version(cinder=True)


def test_manage_and_status_read_cinders_rows_in_cinder_mode(cinder_db_url,
                                                            tmp_path):
    config = fixtures.write_config(tmp_path / 'worker.conf', {
        'DEFAULT': {'transport_url': 'rabbit://guest:guest@%s:%d/' % (
            fixtures.RABBIT_HOST, fixtures.RABBIT_PORT)},
        'database': {'backend': 'cinder', 'connection': cinder_db_url}})

    def status() -> str:
        return subprocess.run(
            [fixtures.console_script('scheduler-worker-status'),
             '--config-file', config, 'upgrade', 'check'],
            capture_output=True, text=True, timeout=120).stdout

    def result_of(output: str, check: str) -> str:
        lines = output.splitlines()
        [at] = [i for i, line in enumerate(lines) if 'Check: %s' % check in
                line]
        return lines[at + 1].split('Result:')[1].split('|')[0].strip()
    assert result_of(status(), 'Database schema') == 'Failure'
    fixtures.manage(config, 'db', 'sync')
    output = status()
    assert result_of(output, 'Database schema') == 'Success'
    assert 'No cinder-scheduler is up' in output
    engine = sa.create_engine(cinder_db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO services (host, \"binary\", topic, "
                "report_count, disabled, created_at, updated_at, deleted) "
                "VALUES ('c-host', 'cinder-scheduler', 'cinder-scheduler', "
                "3, false, now() at time zone 'utc', now() at time zone "
                "'utc', false)"))
    finally:
        engine.dispose()
    listed = fixtures.manage(config, 'service', 'list')
    assert any(line.split()[:3] == ['cinder-scheduler', 'c-host', 'up']
               for line in listed.splitlines())
    assert 'Up: c-host.' in status()


def test_manage_db_sync_refusal_exits_non_zero(tmp_path):
    url = fixtures.create_database('postgresql', tmp_path)
    config = fixtures.write_config(tmp_path / 'worker.conf', {
        'database': {'backend': 'cinder', 'connection': url}})
    try:
        result = subprocess.run(
            [fixtures.console_script('scheduler-worker-manage'),
             '--config-file', config, 'db', 'sync'], capture_output=True,
            text=True, timeout=120)
    finally:
        fixtures.drop_database(url)
    assert result.returncode == 1
    assert 'run cinder-manage db sync first' in result.stderr


class _CinderModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    """Our tables as Cinder mode's migrations create them == the models."""

    template = None

    @pytest.fixture(autouse=True)
    def _engine(self, request):
        url = request.getfixturevalue(self.template).copy()
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        yield
        self.engine.dispose()
        fixtures.drop_database(url)

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return schema.metadata

    def db_sync(self, engine):
        migration.db_sync(engine=engine, cinder=True)

    def include_object(self, object_, name, type_, reflected, compare_to):
        if type_ == 'table':
            return name in schema.metadata.tables
        return True


class TestCinderModelsMigrationsSyncPostgreSQL(_CinderModelsMigrationsSync,
                                               unittest.TestCase):
    template = 'cinder_template'


class TestCinderModelsMigrationsSyncMySQL(_CinderModelsMigrationsSync,
                                          unittest.TestCase):
    template = 'cinder_mysql_template'
