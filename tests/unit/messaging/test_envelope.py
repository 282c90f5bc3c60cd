import json
import types

import pytest

from scheduler_worker import exception
from scheduler_worker.messaging import envelope


def _incoming(message=None, **kwargs):
    return types.SimpleNamespace(
        ctxt={'request_id': 'r'},
        message=message or {'method': 'create_volume'}, **kwargs)


def test_message_id_prefers_the_amqp_unique_id():
    assert envelope.message_id(_incoming(unique_id='abc')) == 'abc'


def test_message_id_without_unique_id_is_a_stable_digest():
    first = envelope.message_id(_incoming())
    assert first == envelope.message_id(_incoming())
    other = _incoming()
    other.message['method'] = 'other'
    assert envelope.message_id(other) != first


def test_message_id_is_the_same_after_the_server_stamped_it():
    # NOTE: the server adds the id to the context; a requeued message
    # (fake://) comes back with it and must count the same attempts.
    incoming = _incoming()
    first = envelope.message_id(incoming)
    incoming.ctxt['message_id'] = first
    assert envelope.message_id(incoming) == first


@pytest.mark.parametrize('message', [
    {'method': 'create_volume', 'version': '3.0', 'args': {}},
    {'method': 'create_volume'},
    {'method': 'create_volume', 'version': '3.12.1', 'namespace': 'x'}])
def test_well_formed_envelope_passes(message):
    envelope.screen(_incoming(message), 1 << 20)


@pytest.mark.parametrize('message,reason', [
    ({'method': None}, 'method must be a name, not None'),
    ({'method': 42}, 'method must be a name, not 42'),
    ({'method': ''}, "method must be a name, not ''"),
    ({'method': 'm', 'version': 'x.y'}, "version must be X.Y, not 'x.y'"),
    ({'method': 'm', 'version': 3}, 'version must be X.Y, not 3'),
    ({'method': 'm', 'args': None}, 'args must be an object, not NoneType'),
    ({'method': 'm', 'args': [1, 2]}, 'args must be an object, not list'),
    ({'method': 'm', 'namespace': 5}, 'namespace must be a string'),
])
def test_malformed_envelope_is_invalid(message, reason):
    with pytest.raises(exception.InvalidMessage, match=reason):
        envelope.screen(_incoming(message), 1 << 20)


def test_too_deep_or_too_big_is_invalid():
    deep = {'method': 'm', 'args': {'v': 'bottom'}}
    for _ in range(40):
        deep['args'] = {'v': deep['args']}
    with pytest.raises(exception.InvalidMessage, match='nested deeper'):
        envelope.screen(_incoming(deep), 1 << 20)
    big = _incoming({'method': 'm'})
    big.message = type('Body', (dict,), {})(method='m')
    big.message._raw_message = types.SimpleNamespace(body=b'x' * 2048)
    with pytest.raises(exception.InvalidMessage, match='2048 bytes'):
        envelope.screen(big, 1024)


def test_whole_message_masks_credentials():
    incoming = _incoming({'method': 'create_volume', 'args': {
        'volume': {'metadata': {'password': 'hunter2'}}}})
    incoming.ctxt.update(auth_token='SECRET-TOKEN', service_token='SVC',
                         service_catalog=[{'url': 'http://u:pw@h'}])
    text = envelope.whole(incoming, 1 << 20)
    for secret in ('SECRET-TOKEN', 'SVC', 'hunter2', 'u:pw'):
        assert secret not in text
    logged = json.loads(text)
    assert logged['context']['request_id'] == 'r'
    assert logged['message']['method'] == 'create_volume'


def test_whole_message_is_cut_at_the_limit():
    incoming = _incoming({'method': 'm', 'args': {'d': 'x' * 500}})
    text = envelope.whole(incoming, 100)
    assert text.startswith('{"context"')
    assert text.endswith('more characters)')
    assert len(text) < 150
