import types

import oslo_messaging
import pytest

from scheduler_worker.messaging import batches


@pytest.mark.parametrize('requested,expected', [
    ('3.0', True), ('3.12', True), ('3', True), ('3.13', False),
    ('4.0', False), ('2.9', False), ('x.y', False), (None, False),
    ('3.0.1', False)])
def test_compatible_versions(requested, expected):
    assert batches.compatible('3.12', requested) is expected


class _Handler:
    method = 'create_volume'
    target = oslo_messaging.Target(version='3.12')


def _message(method='create_volume', version='3.0', **attrs):
    body = {'method': method, 'version': version, 'args': {}}
    return types.SimpleNamespace(message=body, ctxt={}, **attrs)


def test_casts_of_a_batchable_method_are_grouped_others_go_alone():
    handler = _Handler()
    cast_a, cast_b = _message(msg_id='x', reply_q=None), _message()
    call = _message(msg_id='m1', reply_q='reply_abc')
    other = _message(method='update_service_capabilities')
    future = _message(version='4.0')
    too_big = _message()
    groups, singles = batches.group(
        [cast_a, call, other, cast_b, future, too_big],
        {'create_volume': handler}, lambda m: m is not too_big)
    assert groups == [(handler, [cast_a, cast_b])]
    assert singles == [call, other, future, too_big]
