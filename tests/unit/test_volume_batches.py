"""BatchCreator against a real SQLite database and a real fake:// notifier."""

import uuid

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import volume_batches
from tests import fixtures


@pytest.fixture
def batches(sqlite_db):
    with fixtures.volume_creator('unit@lvm#a', total_gb=10,
                                 max_size=100) as (creator, capture):
        yield volume_batches.BatchCreator(creator), capture, sqlite_db


def _cast(size, **fields):
    fields.setdefault('id', str(uuid.uuid4()))
    return (context.RequestContext('u', 'p'), dict(fields, size=size), None)


def test_a_batch_is_stored_and_notified_with_one_outcome_each(batches):
    creator, capture, db = batches
    casts = [_cast(1, display_name='v%d' % i) for i in range(5)]
    assert creator.create(casts) == [None] * 5
    rows = db.rows('SELECT id, host, status FROM volumes ORDER BY id')
    assert sorted(r.id for r in rows) == sorted(c[1]['id'] for c in casts)
    assert {(r.host, r.status) for r in rows} == {('unit@lvm#a', 'creating')}
    notes = capture.wait_for(notifications.CREATE_END, 5)
    assert sorted(n['payload']['volume_id'] for n in notes) == sorted(
        c[1]['id'] for c in casts)
    assert db.rows('SELECT allocated_gb FROM pools') == [(5,)]
    assert db.rows('SELECT count(*) FROM notification_outbox') == [(0,)]


def test_refusals_and_overflow_get_their_own_outcomes(batches):
    creator, capture, db = batches
    casts = [_cast(4), _cast(0), _cast(4), _cast(4)]
    outcomes = creator.create(casts)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], exception.InvalidVolume)
    # NOTE: 10 GiB hold two 4 GiB volumes; the third is refused.
    assert isinstance(outcomes[3], exception.NoValidBackend)
    statuses = dict(db.rows('SELECT id, status FROM volumes'))
    assert statuses[casts[3][1]['id']] == 'error'
    assert statuses[casts[1][1]['id']] == 'error'
    assert db.rows('SELECT allocated_gb FROM pools') == [(8,)]
    capture.wait_for(notifications.CREATE_ERROR, 2)


def test_a_redelivered_cast_in_a_batch_changes_nothing(batches):
    creator, capture, db = batches
    first = _cast(2)
    assert creator.create([first]) == [None]
    again = (first[0], dict(first[1]), None)
    assert creator.create([again, _cast(3)]) == [None, None]
    assert db.rows('SELECT count(*) FROM volumes') == [(2,)]
    # NOTE: the redelivery claimed nothing: 2 + 3 GiB.
    assert db.rows('SELECT allocated_gb FROM pools') == [(5,)]
    capture.wait_for(notifications.CREATE_END, 2)
    assert len(capture.of(notifications.CREATE_END)) == 2
