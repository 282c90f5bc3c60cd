"""The RPC server settles fake incoming messages as decide() says.

Real server, dispatcher and serializers over fake://; the messages are
stand-ins for the AMQP driver's, recording how they were settled.
"""

import uuid

import oslo_messaging
import pytest

from scheduler_worker import exception
from scheduler_worker.messaging import outcome
from scheduler_worker.messaging import server as rpc_server
from tests import fixtures
from tests.unit.messaging.test_outcome import TEMPORARY


class FakeIncoming:
    """An incoming cast: body, context, and what became of it."""

    client_timeout = None

    def __init__(self, args=None, method='create_volume', ctxt=None,
                 **body) -> None:
        self.unique_id = uuid.uuid4().hex
        self.ctxt = dict(ctxt or {'request_id': 'req-fake'})
        self.message = dict(body, method=method, version='3.0',
                            args={} if args is None else args)
        self.settled, self.replies = [], []

    def acknowledge(self):
        self.settled.append('ack')

    def requeue(self):
        self.settled.append('requeue')

    def reject(self):
        self.settled.append('reject')

    def reply(self, reply=None, failure=None):
        self.replies.append((reply, failure))


class Endpoint:
    target = oslo_messaging.Target(version='3.12')

    def __init__(self) -> None:
        self.raises = None

    def update_service_capabilities(self, context, **kwargs):
        if self.raises is not None:
            raise self.raises


class Batch:
    """A create_volume batch handler that returns or raises as told."""

    method = 'create_volume'
    target = oslo_messaging.Target(version='3.12')

    def __init__(self) -> None:
        self.results, self.raises, self.calls = None, None, []

    def __call__(self, casts):
        self.calls.append(casts)
        if self.raises is not None:
            raise self.raises
        if callable(self.results):
            return [self.results(cast) for cast in casts]
        return self.results or [None] * len(casts)


@pytest.fixture
def served(monkeypatch):
    # NOTE: no pauses between requeues: the delays are decide()'s, tested
    # there.
    monkeypatch.setattr(outcome, 'FIRST_DELAY', 0.0)
    monkeypatch.setattr(outcome, 'MAX_DELAY', 0.0)
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_rpc_transport(conf)
    reported = []
    endpoint, batch = Endpoint(), Batch()
    server = rpc_server.get_rpc_server(
        transport, 'topic', 'host', [endpoint],
        lambda context, method, exc: reported.append((context, method, exc)),
        1 << 20, batch_handlers=[batch])
    yield server, endpoint, batch, reported
    transport.cleanup()


def _deliver(server, *messages):
    server._process_incoming(list(messages))


@pytest.mark.parametrize('name', sorted(TEMPORARY))
def test_temporary_failure_of_a_batch_requeues_every_cast_forever(served,
                                                                  name):
    server, _, batch, reported = served
    batch.raises = TEMPORARY[name]
    casts = [FakeIncoming({'volume': {'size': 1}}) for _ in range(3)]
    for _ in range(10):
        _deliver(server, *casts)
    assert all(cast.settled == ['requeue'] * 10 for cast in casts)
    assert reported == []


@pytest.mark.parametrize('name', sorted(TEMPORARY))
def test_temporary_failure_of_a_single_requeues_forever(served, name):
    server, endpoint, _, reported = served
    endpoint.raises = TEMPORARY[name]
    message = FakeIncoming(method='update_service_capabilities')
    for _ in range(10):
        _deliver(server, message)
    assert message.settled == ['requeue'] * 10
    assert message.replies == [] and reported == []


def test_stored_and_refused_casts_are_acknowledged(served):
    server, _, batch, reported = served
    refusal = exception.Refused(exception.InvalidVolume(reason='size'))
    batch.results = [None, refusal]
    stored, refused = FakeIncoming({'volume': {}}), FakeIncoming({})
    _deliver(server, stored, refused)
    assert (stored.settled, refused.settled) == (['ack'], ['ack'])
    assert [len(casts) for casts in batch.calls] == [2]
    assert reported == []


def test_poison_from_the_batch_is_rejected_and_reported_once(served):
    server, _, batch, reported = served
    poison = exception.InvalidVolume(reason='volume is required')
    batch.results = [None, poison]
    good, bad = FakeIncoming({'volume': {}}), FakeIncoming({})
    _deliver(server, good, bad)
    assert (good.settled, bad.settled) == (['ack'], ['reject'])
    [(context, method, exc)] = reported
    assert (context.request_id, method, exc) == ('req-fake', 'create_volume',
                                                 poison)


@pytest.mark.parametrize('changes', [
    {'args': None}, {'args': [1, 2]}, {'method': 42}, {'method': None},
    {'version': 'x.y'}])
def test_malformed_envelope_is_rejected_and_reported_once(served, changes):
    server, _, batch, reported = served
    message = FakeIncoming()
    message.message.update(changes)
    _deliver(server, message)
    assert message.settled == ['reject']
    assert batch.calls == []
    [(_, _, exc)] = reported
    assert isinstance(exc, exception.InvalidMessage)


def test_context_of_the_wrong_types_reaches_the_batch_as_a_refusal(served):
    server, _, batch, reported = served
    message = FakeIncoming({'volume': {'size': 1}},
                           ctxt={'request_id': 'req-x', 'is_admin': 'false'})
    _deliver(server, message)
    [[cast]] = batch.calls
    assert isinstance(cast.refusal, exception.InvalidContext)
    assert cast.context.is_admin is False
    assert cast.context.request_id == 'req-x'
    assert message.settled == ['ack']


def test_context_of_the_wrong_types_of_a_single_is_poison(served):
    server, endpoint, _, reported = served
    message = FakeIncoming(method='update_service_capabilities',
                           ctxt={'request_id': 'req-x', 'is_admin': 'false'})
    _deliver(server, message)
    assert message.settled == ['reject']
    [(context, _, exc)] = reported
    assert isinstance(exc, exception.InvalidContext)
    assert (context.request_id, context.is_admin) == ('req-x', False)


def test_unexpected_error_is_retried_then_rejected_and_reported_once(served):
    server, endpoint, _, reported = served
    endpoint.raises = KeyError('a bug')
    message = FakeIncoming(method='update_service_capabilities')
    for _ in range(outcome.UNEXPECTED_ATTEMPTS):
        _deliver(server, message)
    assert message.settled == ['requeue'] * (
        outcome.UNEXPECTED_ATTEMPTS - 1) + ['reject']
    assert len(reported) == 1


def test_a_bug_in_a_batch_costs_only_the_cast_at_fault_an_attempt(served):
    server, _, batch, reported = served

    def result(cast):
        if cast.kwargs['volume'] == 'bad':
            raise KeyError('a bug')
        return None
    batch.results = result
    good, bad = FakeIncoming({'volume': {}}), FakeIncoming({'volume': 'bad'})
    _deliver(server, good, bad)
    assert (good.settled, bad.settled) == (['ack'], ['requeue'])
    # NOTE: the batch of two, then each alone.
    assert [len(casts) for casts in batch.calls] == [2, 1, 1]
    assert reported == []


def test_casts_not_started_when_stopping_go_back_to_the_queue(served):
    server, _, batch, _ = served
    server._stopping.set()
    message = FakeIncoming({'volume': {}})
    _deliver(server, message)
    assert message.settled == ['requeue'] and batch.calls == []


def test_metrics_label_only_methods_the_worker_has():
    methods = frozenset({'create_volume'})
    assert rpc_server.method_label('create_volume', methods) == \
        'create_volume'
    for claimed in ('drop_tables', ['create_volume'], {'a': 1}, None, 7):
        assert rpc_server.method_label(claimed, methods) == 'unknown'

