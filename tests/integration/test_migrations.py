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
