"""What the worker does today with the scheduler methods it does not serve.

Cinder 29's own messages (tests/wire/cinder29), sent again over fake://.
Each is rejected as poison: logged with its request id, reported by one
ERROR notification ``scheduler.<method>``, and the queue goes on; a call
gets the error as its reply (cinder-api: HTTP 500 at once, not after its
60 s timeout). The resource the cast was about is left as cinder-api left
it (``retyping``, ``migrating``, ``creating``): see
doc/cinder-rpc-methods.md. When one of these gets served, its case here
moves to the tests of that method.
"""

import copy

import oslo_messaging
import pytest

from tests import fixtures

# (capture, method): the casts cinder-api sends that no endpoint has yet.
CASTS = [('retype_stay', 'retype'),
         ('migrate_volume', 'migrate_volume')]


def _captured(operation: str, method: str) -> dict:
    return copy.deepcopy(next(
        m['message'] for m in fixtures.wire_sample(
            'cinder29/%s.json' % operation)['messages']
        if m['message'].get('method') == method and
        m['routing_key'].split('.')[0] == 'cinder-scheduler'))


def _prepared(worker, message: dict):
    context = {key[len('_context_'):]: value for key, value in
               message.items() if key.startswith('_context_')}
    client = oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer(), timeout=30)
    return context, client.prepare(version=message['version'])


def _migrate_volume_to_host() -> dict:
    """What a cinder-api capped below 3.3 casts instead of migrate_volume
    (scheduler/rpcapi.py: ``host`` for ``backend``, version 3.0)."""
    message = _captured('migrate_volume', 'migrate_volume')
    message['method'], message['version'] = 'migrate_volume_to_host', '3.0'
    message['args']['host'] = message['args'].pop('backend')
    return message


@pytest.mark.parametrize('message', [
    _captured(*cast) for cast in CASTS] + [_migrate_volume_to_host()],
    ids=[method for _, method in CASTS] + ['migrate_volume_to_host'])
def test_an_unserved_cast_is_rejected_and_reported_once(worker, message):
    context, prepared = _prepared(worker, message)
    prepared.cast(context, message['method'], **message['args'])
    event_type = 'scheduler.%s' % message['method']
    [report] = worker.notifications.wait_for(event_type, 1)
    assert report['priority'] == 'ERROR'
    assert report['context']['request_id'] == message['_context_request_id']
    assert report['payload']['reason'] == (
        "NoSuchMethod('Endpoint does not support RPC method %s')"
        % message['method'])
    # NOTE: the queue goes on: a call after it is answered.
    levels = _captured('get_log_levels', 'get_log_levels')
    context, prepared = _prepared(worker, levels)
    assert prepared.call(context, 'get_log_levels', **levels['args'])
    assert len(worker.notifications.of(event_type)) == 1
