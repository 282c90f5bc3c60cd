"""decide(), case by case: what becomes of a message after its handling.

The temporary database failures are the exceptions the real databases
raise through oslo.db and our filters (tests/integration/
test_db_errors.py provokes each).
"""

from oslo_db import exception as db_exc
from oslo_messaging.rpc import dispatcher as rpc_dispatcher
import pytest
from sqlalchemy import exc as sa_exc

from scheduler_worker import exception
from scheduler_worker.messaging import outcome

Action, Kind = outcome.Action, outcome.Kind


def _operational(message: str) -> sa_exc.OperationalError:
    return sa_exc.OperationalError('UPDATE pools ...', {}, Exception(message))


TEMPORARY = {
    'PostgreSQL deadlock': db_exc.DBDeadlock(
        _operational('deadlock detected')),
    'MySQL deadlock': db_exc.DBDeadlock(_operational(
        '(1213, Deadlock found when trying to get lock)')),
    'MySQL lock wait timeout': db_exc.DBDeadlock(_operational(
        '(1205, Lock wait timeout exceeded; try restarting transaction)')),
    'PostgreSQL lock_timeout 55P03': db_exc.DBDeadlock(_operational(
        'canceling statement due to lock timeout')),
    'SQLite database is locked': db_exc.DBDeadlock(
        _operational('database is locked')),
    'MariaDB record changed': db_exc.DBConsistencyError(_operational(
        '(1020, Record has changed since last read)')),
    'disconnect': db_exc.DBConnectionError(_operational(
        'server closed the connection unexpectedly')),
    'pool timeout': sa_exc.TimeoutError(
        'QueuePool limit of size 4 overflow 0 reached, connection timed '
        'out, timeout 30.00'),
    'lost capacity races': exception.TemporaryFailure(reason='races'),
}


def test_handled_is_acknowledged():
    assert outcome.decide(None) == outcome.Outcome(Action.ACK, Kind.HANDLED)
    assert outcome.decide(None).label == 'ack'


@pytest.mark.parametrize('error', [
    exception.Refused(exception.InvalidVolume(reason='size')),
    exception.Refused(exception.NoValidBackend(reason='full')),
    rpc_dispatcher.ExpectedException()])
def test_refused_and_recorded_is_acknowledged(error):
    decided = outcome.decide(error)
    assert (decided.action, decided.kind) == (Action.ACK, Kind.REFUSED)
    assert decided.label == 'refused'


@pytest.mark.parametrize('name', sorted(TEMPORARY))
def test_temporary_database_failure_is_requeued_never_rejected(name):
    error = TEMPORARY[name]
    delays = []
    attempts = outcome.Attempts()
    for _ in range(200):
        decided = outcome.decide(error, attempts)
        assert (decided.action, decided.kind) == (Action.REQUEUE,
                                                  Kind.TEMPORARY), name
        delays.append(decided.delay)
        attempts = attempts.after(decided)
    assert delays[0] == outcome.FIRST_DELAY
    assert delays == sorted(delays)
    assert delays[1] > delays[0]
    assert max(delays) == outcome.MAX_DELAY


def test_temporary_failure_after_unexpected_ones_is_still_requeued():
    attempts = outcome.Attempts(unexpected=outcome.UNEXPECTED_ATTEMPTS)
    decided = outcome.decide(TEMPORARY['disconnect'], attempts)
    assert decided.action is Action.REQUEUE


@pytest.mark.parametrize('error', [
    exception.InvalidMessage(reason='args must be an object'),
    exception.InvalidVolume(reason='volume is required'),
    exception.InvalidContext(reason='is_admin must be true or false'),
    exception.UnsupportedObject(name='Snapshot', namespace='cinder',
                                version='1.0', reason='not a volume'),
    rpc_dispatcher.NoSuchMethod('drop_tables'),
    rpc_dispatcher.UnsupportedVersion('4.0')])
def test_poison_is_rejected_at_once(error):
    decided = outcome.decide(error)
    assert (decided.action, decided.kind) == (Action.REJECT, Kind.POISON)
    assert decided.label == 'reject'


@pytest.mark.parametrize('error', [
    KeyError('a bug'), TypeError('another'),
    db_exc.DBError(_operational('value too long for type character(255)'))])
def test_unexpected_error_is_retried_a_few_times_then_rejected(error):
    attempts, actions = outcome.Attempts(), []
    for _ in range(outcome.UNEXPECTED_ATTEMPTS):
        decided = outcome.decide(error, attempts)
        assert decided.kind is Kind.UNEXPECTED
        actions.append(decided.action)
        attempts = attempts.after(decided)
    assert actions == [Action.REQUEUE] * (outcome.UNEXPECTED_ATTEMPTS - 1) \
        + [Action.REJECT]


def test_temporary_failures_do_not_count_against_unexpected_ones():
    attempts = outcome.Attempts(temporary=50)
    decided = outcome.decide(KeyError('a bug'), attempts)
    assert decided.action is Action.REQUEUE
