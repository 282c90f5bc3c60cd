"""How each temporary database failure reaches the worker, on the real
databases: every one of them must be recognised as temporary."""

import threading

from oslo_db import exception as db_exc
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from scheduler_worker import context
from scheduler_worker.db import api as db
from scheduler_worker.db.sqlalchemy import api as sqla_api
from tests import fixtures

# NOTE: the backend's own functions, not the facade's: the facade would
# retry (up to [database] db_max_retries) before anything reaches us.


def _service(host: str = 'h') -> int:
    return sqla_api.service_create(
        context.get_admin_context(),
        {'host': host, 'binary': 'b', 'topic': 't'})['id']


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError('%s did not fail' % call)


def test_sqlite_database_locked_is_a_temporary_deadlock(sqlite_db):
    service_id = _service()
    holder = sqlite_db.engine.raw_connection()
    try:
        holder.driver_connection.execute('BEGIN EXCLUSIVE')
        raised = _raised(lambda: sqla_api.service_heartbeat(
            context.get_admin_context(), service_id))
    finally:
        holder.rollback()
        holder.close()
    assert isinstance(raised, db_exc.DBDeadlock), raised
    assert 'database is locked' in str(raised)
    assert db.is_temporary(raised)


@pytest.mark.parametrize('backend,engine_args,expected', [
    ('postgresql',
     {'connection_parameters': 'options=-c%20lock_timeout%3D200'},
     'canceling statement due to lock timeout'),
    ('mysql', {'connection_parameters':
               'init_command=SET%20innodb_lock_wait_timeout%3D1'},
     'Lock wait timeout exceeded')])
def test_lock_timeout_is_a_temporary_deadlock(backend, engine_args, expected,
                                              tmp_path):
    """The worker's connections have a lock timeout; a row is held."""
    any_db = fixtures.Database(backend, tmp_path, **engine_args)
    try:
        service_id = _service()
        holder = sa.create_engine(any_db.url, poolclass=sa.pool.NullPool)
        with holder.connect() as connection, connection.begin():
            connection.execute(sa.text(
                'UPDATE services SET report_count = report_count + 1 '
                'WHERE id = :id'), {'id': service_id})
            raised = _raised(lambda: sqla_api.service_heartbeat(
                context.get_admin_context(), service_id))
        holder.dispose()
    finally:
        any_db.close()
    assert isinstance(raised, db_exc.DBDeadlock), raised
    assert expected in str(raised)
    assert db.is_temporary(raised)


def _waiting_for_a_lock(any_db) -> bool:
    if any_db.backend == 'postgresql':
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE "
               "wait_event_type = 'Lock' AND datname = current_database()")
    else:
        sql = ("SELECT count(*) FROM information_schema.innodb_trx "
               "WHERE trx_state = 'LOCK WAIT'")
    return any_db.rows(sql)[0][0] > 0


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_deadlock_is_temporary(backend, tmp_path):
    """Two transactions take two rows in opposite orders."""
    any_db = fixtures.Database(backend, tmp_path)
    try:
        first, second = _service('h1'), _service('h2')
        a, b = any_db.engine.connect(), any_db.engine.connect()
        a.begin(), b.begin()
        update = sa.text('UPDATE services SET report_count = 1 '
                         'WHERE id = :id')
        a.execute(update, {'id': first})
        b.execute(update, {'id': second})
        raised = []

        def cross():
            try:
                b.execute(update, {'id': first})
            except Exception as exc:
                raised.append(exc)
        thread = threading.Thread(target=cross)
        thread.start()
        fixtures.wait_until(lambda: _waiting_for_a_lock(any_db),
                            what='a transaction waiting for a lock')
        try:
            a.execute(update, {'id': second})
        except Exception as exc:
            raised.append(exc)
        thread.join(60)
        for connection in (a, b):
            connection.close()
    finally:
        any_db.close()
    # NOTE: the database picks the victim: one of the two, either.
    assert len(raised) == 1 and isinstance(raised[0], db_exc.DBDeadlock), \
        raised
    assert db.is_temporary(raised[0])


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_pool_with_no_connection_free_is_temporary(backend, tmp_path):
    any_db = fixtures.Database(backend, tmp_path, max_pool_size=1,
                               max_overflow=0, pool_timeout=0.1)
    try:
        with any_db.engine.connect():
            raised = _raised(lambda: sqla_api.service_get_all(
                context.get_admin_context()))
    finally:
        any_db.close()
    assert isinstance(raised, sa_exc.TimeoutError), raised
    assert db.is_temporary(raised)


def test_a_refused_row_is_not_temporary(sqlite_db):
    raised = _raised(lambda: sqla_api.service_create(
        context.get_admin_context(), {'host': None, 'binary': 'b'}))
    assert isinstance(raised, db_exc.DBError), raised
    assert not db.is_temporary(raised)
