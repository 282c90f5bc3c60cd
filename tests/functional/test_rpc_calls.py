"""RPC calls (not casts) get their reply: the result, or the failure."""

import uuid

import oslo_messaging
import pytest

from scheduler_worker import exception
from tests import fixtures


def _client(worker) -> oslo_messaging.RPCClient:
    return oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer(), timeout=30)


def test_a_call_is_answered_after_the_volume_is_stored(worker, pools):
    volume_id = str(uuid.uuid4())
    reply = _client(worker).prepare(version='3.0').call(
        {'user_id': 'u', 'project_id': 'p'}, 'create_volume',
        volume={'id': volume_id, 'size': 1})
    assert reply is None
    assert worker.db.rows('SELECT status FROM volumes WHERE id = :id',
                          id=volume_id)[0].status == 'creating'


def test_a_refused_call_gets_the_error_not_a_timeout(worker):
    # NOTE: the client re-raises the worker's Refused (a class of a module
    # it can import), rather than timing out.
    with pytest.raises(exception.Refused) as raised:
        _client(worker).prepare(version='3.0').call(
            {}, 'create_volume', volume={'id': str(uuid.uuid4()),
                                         'size': 0})
    assert 'size must be between 1 and' in str(raised.value)
    fixtures.wait_until(lambda: worker.notifications.received,
                        what='the ERROR notification')
