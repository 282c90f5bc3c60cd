"""Outbox claims on SQLite, PostgreSQL and MariaDB: one sender per row."""

import datetime
import threading
import uuid

from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from scheduler_worker import context
from scheduler_worker.db import api as db
from scheduler_worker.db.sqlalchemy import api as sqla_api
from scheduler_worker.db.sqlalchemy import models

pytestmark = pytest.mark.integration


def _rows(count: int, due: bool = True) -> list[dict]:
    now = timeutils.utcnow()
    when = now - datetime.timedelta(seconds=1) if due else \
        now + datetime.timedelta(hours=1)
    return [{'id': str(uuid.uuid4()), 'kind': 'notification',
             'exchange': 'openstack', 'topic': 'notifications.info',
             'server': None, 'body': '{"n": %d}' % i, 'created_at': now,
             'attempts': 0, 'next_attempt_at': when} for i in range(count)]


def _add(rows: list[dict]) -> list[dict]:
    db.outbox_add(context.get_admin_context(), rows)
    return rows


def _claim(outcome=None, ids=None, limit: int = 100) -> list[dict]:
    """Claim rows as a relay (or, with ids, a handler); forget them all."""
    taken = []

    def send(rows):
        taken.extend(rows)
        return outcome(rows) if outcome else dict.fromkeys(
            r['id'] for r in rows)
    db.outbox_send(context.get_admin_context(), send, ids=ids, limit=limit)
    return taken


class _Holder(threading.Thread):
    """A sender that keeps its claim until told to finish."""

    def __init__(self, ids=None) -> None:
        super().__init__(daemon=True)
        self.ids, self.taken = ids, []
        self.holding, self.finish = threading.Event(), threading.Event()

    def run(self) -> None:
        def send(rows):
            self.taken.extend(rows)
            self.holding.set()
            assert self.finish.wait(60)
            return dict.fromkeys(r['id'] for r in rows)
        db.outbox_send(context.get_admin_context(), send, ids=self.ids)
        self.holding.set()

    def release(self) -> None:
        self.finish.set()
        self.join(60)
        assert not self.is_alive()


def _ids(rows) -> set[str]:
    return {r['id'] for r in rows}


def _stored(database) -> list:
    """The outbox's rows, with typed columns (SQLite stores text)."""
    with database.engine.connect() as connection:
        return list(connection.execute(sa.select(
            models.OutboxMessage.__table__)))


def test_rows_being_sent_are_skipped_by_every_other_claim(any_db):
    held = _add(_rows(10))
    holder = _Holder()
    holder.start()
    assert holder.holding.wait(30)
    assert _ids(holder.taken) == _ids(held)
    try:
        # NOTE: new rows are stored while the claim is held (MariaDB's
        # REPEATABLE READ would lock the gap after the claimed rows and
        # make this insert wait), and the next claim takes those alone,
        # without waiting for the holder.
        fresh = _add(_rows(5))
        now = timeutils.utcnow()
        assert _ids(_claim(lambda rows: dict.fromkeys(_ids(rows), now))) \
            == _ids(fresh)
        assert _ids(_claim()) == _ids(fresh)
        assert _claim(ids=[r['id'] for r in held]) == []
        assert any_db.rows('SELECT count(*) FROM scheduler_worker_outbox') == [
            (10,)]
    finally:
        holder.release()
    assert any_db.rows(
        'SELECT count(*) FROM scheduler_worker_outbox') == [(0,)]


def test_a_handler_claims_only_its_rows_that_no_one_tried(any_db):
    mine, tried, other = _rows(3), _rows(1), _rows(2)
    tried[0]['attempts'] = 1
    _add(mine + tried + other)
    taken = _claim(ids=[r['id'] for r in mine + tried])
    assert _ids(taken) == _ids(mine)
    assert {r['attempt'] for r in taken} == {1}
    assert {r.id for r in any_db.rows('SELECT id FROM scheduler_worker_outbox'
                                      )} == _ids(tried + other)


def test_a_handler_holding_its_rows_keeps_them_from_every_other_claim(
        any_db):
    mine = _add(_rows(4))
    holder = _Holder(ids=list(_ids(mine)))
    holder.start()
    assert holder.holding.wait(30)
    assert _ids(holder.taken) == _ids(mine)
    try:
        assert _claim() == []
        assert _claim(ids=list(_ids(mine))) == []
    finally:
        holder.release()
    assert _stored(any_db) == []


def test_a_handler_gives_back_what_it_could_not_send(any_db):
    failed, confirmed = _add(_rows(2, due=False))
    later = timeutils.utcnow() + datetime.timedelta(hours=2)
    taken = _claim(lambda rows: {failed['id']: later,
                                 confirmed['id']: None},
                   ids=[failed['id'], confirmed['id']])
    assert {r['attempt'] for r in taken} == {1}
    [stored] = _stored(any_db)
    assert (stored.id, stored.attempts, stored.next_attempt_at,
            stored.body) == (failed['id'], 1, later, failed['body'])
    assert _claim(ids=[failed['id']]) == []


def test_a_failed_row_waits_until_its_next_attempt(any_db):
    [row] = _add(_rows(1))
    later = timeutils.utcnow() + datetime.timedelta(hours=1)
    taken = _claim(lambda rows: {r['id']: later for r in rows})
    assert [(r['id'], r['attempt']) for r in taken] == [(row['id'], 1)]
    [stored] = _stored(any_db)
    assert (stored.attempts, stored.next_attempt_at) == (1, later)
    assert _claim() == []
    assert _claim(ids=[row['id']]) == []

    with any_db.engine.begin() as connection:
        connection.exec_driver_sql(
            'UPDATE scheduler_worker_outbox SET next_attempt_at = created_at')
    again = _claim(lambda rows: {r['id']: later for r in rows})
    assert [r['attempt'] for r in again] == [2]
    assert any_db.rows(
        'SELECT attempts FROM scheduler_worker_outbox') == [(2,)]


def test_due_rows_are_claimed_oldest_first_up_to_the_limit(any_db):
    rows = _rows(5)
    for i, row in enumerate(rows):
        row['next_attempt_at'] -= datetime.timedelta(minutes=i)
    _add(rows + _rows(2, due=False))
    taken = _claim(limit=3)
    assert _ids(taken) == _ids(rows[2:])
    assert {r['body'] for r in taken} == {r['body'] for r in rows[2:]}


def test_a_sender_that_fails_gives_its_rows_back(any_db):
    """An exception in send() is a sender gone: on PostgreSQL and MariaDB
    the rolled-back transaction frees the rows at once, as a dead
    process's closed connection does; SQLite's lease holds them until it
    ends, the attempt counted."""
    [row] = _add(_rows(1))

    def crash(rows):
        raise RuntimeError('the sender died')
    with pytest.raises(RuntimeError, match='the sender died'):
        _claim(crash)
    if any_db.backend != 'sqlite':
        assert [(r['id'], r['attempt']) for r in _claim()] == [
            (row['id'], 1)]
        return
    [stored] = _stored(any_db)
    assert stored.attempts == 1
    lease_left = stored.next_attempt_at - timeutils.utcnow()
    assert lease_left > sqla_api.SQLITE_LEASE - datetime.timedelta(
        seconds=30)
    assert _claim() == []
