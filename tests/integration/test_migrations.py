"""Models and migrations agree, on SQLite, PostgreSQL and MariaDB."""

import datetime
import unittest

from oslo_db.sqlalchemy import test_migrations
import pytest
import sqlalchemy as sa

from scheduler_worker.db import migration
from scheduler_worker.db.sqlalchemy import models
from tests import fixtures


@pytest.fixture(params=fixtures.BACKENDS)
def empty_db(request, tmp_path):
    url = fixtures.create_database(request.param, tmp_path)
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()
    fixtures.drop_database(url)


class _ModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    """oslo.db's check: a synced schema compares equal to the models."""

    backend = None

    def setUp(self):
        super().setUp()
        url = fixtures.create_database(self.backend, self._tmp_path)
        self.engine = sa.create_engine(url)
        self.addCleanup(fixtures.drop_database, url)
        self.addCleanup(self.engine.dispose)

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self._tmp_path = tmp_path

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.db_sync(engine=engine)


class TestModelsMigrationsSyncSQLite(_ModelsMigrationsSync,
                                     unittest.TestCase):
    backend = 'sqlite'


class TestModelsMigrationsSyncPostgreSQL(_ModelsMigrationsSync,
                                         unittest.TestCase):
    backend = 'postgresql'


class TestModelsMigrationsSyncMySQL(_ModelsMigrationsSync,
                                    unittest.TestCase):
    backend = 'mysql'


def test_db_version_before_and_after_sync(empty_db):
    assert migration.db_version(engine=empty_db) is None
    migration.db_sync(engine=empty_db)
    assert migration.db_version(engine=empty_db) == migration.head_version()
    # NOTE: a second sync is a no-op, as deployment tools expect.
    migration.db_sync(engine=empty_db)
    assert migration.db_version(engine=empty_db) == migration.head_version()


def test_outbox_rows_pending_at_the_upgrade_to_0004_are_kept(empty_db):
    migration.db_sync('0003', engine=empty_db)
    created = datetime.datetime(2026, 11, 30, 12, 0, 0, 123456)
    with empty_db.begin() as connection:
        connection.execute(sa.text(
            'INSERT INTO notification_outbox (message_id, priority, '
            'event_type, body, created_at, attempts) VALUES (:id, :p, :e, '
            ':b, :c, 2)'), [
                {'id': 'm-info', 'p': 'INFO', 'e': 'x.end', 'b': '{"i": 1}',
                 'c': created},
                {'id': 'm-error', 'p': 'ERROR', 'e': 'x', 'b': '{"e": 1}',
                 'c': created}])
    migration.db_sync(engine=empty_db)
    with empty_db.connect() as connection:
        rows = {row.id: row for row in connection.execute(sa.select(
            models.OutboxMessage.__table__))}
    assert set(rows) == {'m-info', 'm-error'}
    assert rows['m-info'].topic == 'notifications.info'
    assert rows['m-error'].topic == 'notifications.error'
    for row in rows.values():
        assert (row.kind, row.exchange, row.server, row.attempts) == (
            'notification', 'openstack', None, 2)
        assert row.next_attempt_at == row.created_at == created
    assert rows['m-info'].body == '{"i": 1}'


def test_rows_are_kept_by_the_renames_of_0005(empty_db):
    migration.db_sync('0004', engine=empty_db)
    now = datetime.datetime(2026, 12, 1, 8, 0, 0, 250000)
    with empty_db.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO backends (id, host, capabilities, reported_at, "
            "static, created_at, deleted) VALUES (7, 'h@b', '{}', :t, "
            ":f, :t, :f)"), {'t': now, 'f': False})
        connection.execute(sa.text(
            "INSERT INTO pools (id, backend_id, name, host, "
            "availability_zone, capabilities, allocated_gb, created_at, "
            "deleted) VALUES (9, 7, 'p', 'h@b#p', 'nova', '{}', 42, :t, "
            ":f)"), {'t': now, 'f': False})
        connection.execute(sa.text(
            "INSERT INTO notification_outbox (id, kind, exchange, topic, "
            "body, created_at, attempts, next_attempt_at) VALUES ('o1', "
            "'cast', 'openstack', 't', '{}', :t, 0, :t)"), {'t': now})
    migration.db_sync(engine=empty_db)
    tables = set(sa.inspect(empty_db).get_table_names())
    assert not tables & {'backends', 'pools', 'notification_outbox'}
    with empty_db.begin() as connection:
        assert connection.execute(sa.text(
            'SELECT id, backend_id, host, allocated_gb FROM '
            'scheduler_worker_pools')).all() == [(9, 7, 'h@b#p', 42)]
        outbox = models.OutboxMessage.__table__
        assert connection.execute(sa.select(
            outbox.c.id, outbox.c.created_at)).all() == [('o1', now)]
        # NOTE: the next backend draws an id past the copied ones.
        connection.execute(sa.insert(models.Backend.__table__).values(
            host='h@c', capabilities='{}', reported_at=now, static=False,
            created_at=now, deleted=False))
        assert connection.execute(sa.text(
            "SELECT id FROM scheduler_worker_backends WHERE host = 'h@c'")
        ).scalar() > 7
