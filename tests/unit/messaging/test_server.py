import types

from scheduler_worker.messaging import server


def _incoming(**kwargs):
    return types.SimpleNamespace(ctxt={'request_id': 'r'},
                                 message={'method': 'create_volume'},
                                 **kwargs)


def test_message_id_prefers_the_amqp_unique_id():
    assert server.message_id(_incoming(unique_id='abc')) == 'abc'


def test_message_id_without_unique_id_is_a_stable_digest():
    first = server.message_id(_incoming())
    assert first == server.message_id(_incoming())
    other = _incoming()
    other.message['method'] = 'other'
    assert server.message_id(other) != first
