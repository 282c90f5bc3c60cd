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


def test_metrics_label_only_methods_the_worker_has():
    methods = frozenset({'create_volume'})
    assert server.method_label('create_volume', methods) == 'create_volume'
    for claimed in ('drop_tables', ['create_volume'], {'a': 1}, None, 7):
        assert server.method_label(claimed, methods) == 'unknown'
