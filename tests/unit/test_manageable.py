"""manage_existing, manage_existing_snapshot, create_group: the strict
input checks and the onward casts, field by field against what Cinder
29's scheduler sent onward in the lab (tests/wire/cinder29/)."""

import copy
import datetime

import pytest

from scheduler_worker import exception
from scheduler_worker import groups_ops
from scheduler_worker import manageable
from scheduler_worker import volume_rpcapi
from scheduler_worker.objects import primitives
from tests.unit import test_volume_rpcapi as wire


def _routing_key(cast: volume_rpcapi.Cast) -> str:
    return '%s.%s' % (cast.topic, cast.server)


def test_manage_existing_is_the_cast_cinders_scheduler_sends():
    first, onward = wire._casts('manage_existing')
    args, expected = first['message']['args'], onward['message']['args']
    pool = expected['volume']['versioned_object.data']['host']
    volume = primitives.Primitive.of(args['volume']).updated(
        host=pool, cluster_name=None)
    cast = manageable.manage_existing_cast(
        volume, manageable.checked_ref(args['request_spec']['ref']))
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == (onward['message']['method'],
                                           onward['message']['version'])
    assert set(cast.args) == set(expected) == {'ref', 'volume'}
    for name in expected:
        assert cast.args[name] == expected[name], name


def test_manage_existing_writes_the_pool_into_the_volume():
    first, _ = wire._casts('manage_existing')
    volume = primitives.Primitive.of(first['message']['args']['volume'])
    volume = volume.updated(host='lab@b2#lab', cluster_name=None)
    cast = manageable.manage_existing_cast(volume, {'source-name': 'x'})
    assert _routing_key(cast) == 'cinder-volume.lab@b2.lab'
    assert cast.args['volume']['versioned_object.data']['host'] == \
        'lab@b2#lab'


def test_manage_existing_snapshot_is_the_cast_cinders_scheduler_sends():
    first, onward = wire._casts('manage_existing_snapshot')
    args, expected = first['message']['args'], onward['message']['args']
    backend = manageable.backend_of(
        args['volume']['versioned_object.data'])
    cast = manageable.manage_existing_snapshot_cast(
        backend, primitives.Primitive.of(args['snapshot']),
        manageable.checked_ref(args['ref']))
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == (onward['message']['method'],
                                           onward['message']['version'])
    assert set(cast.args) == set(expected) == {'snapshot', 'ref'}
    for name in expected:
        assert cast.args[name] == expected[name], name


def test_create_group_is_the_cast_cinders_scheduler_sends():
    first, onward = wire._casts('create_group')
    args, expected = first['message']['args'], onward['message']['args']
    expected_group = expected['group']['versioned_object.data']
    updated_at = datetime.datetime.strptime(expected_group['updated_at'],
                                            '%Y-%m-%dT%H:%M:%SZ')
    group = primitives.Primitive.of(args['group']).updated(
        host=expected_group['host'], cluster_name=None,
        updated_at=volume_rpcapi.ovo_datetime(updated_at))
    cast = groups_ops.create_group_cast(group)
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == (onward['message']['method'],
                                           onward['message']['version'])
    assert set(cast.args) == set(expected) == {'group'}
    data = cast.args['group']['versioned_object.data']
    assert set(data) == set(expected_group)
    for name in expected_group:
        assert data[name] == expected_group[name], name
    for key in ('versioned_object.name', 'versioned_object.namespace',
                'versioned_object.version'):
        assert cast.args['group'][key] == expected['group'][key]


@pytest.mark.parametrize('spec', [
    None, [], 'spec', {'volume_properties': {'size': '0'}},
    {'volume_properties': {'size': True}},
    {'volume_properties': {'size': -1}}, {'volume_properties': 'x'}])
def test_a_request_spec_without_a_whole_size_is_refused(spec):
    with pytest.raises(exception.Invalid):
        manageable.requested_size(manageable.plain_request_spec(spec))


def test_a_size_of_zero_is_a_manage_request():
    assert manageable.requested_size(
        {'volume_properties': {'size': 0}}) == 0


def test_a_missing_size_takes_the_default_given():
    assert manageable.requested_size({}, 0) == 0
    with pytest.raises(exception.Invalid):
        manageable.requested_size({})


@pytest.mark.parametrize('ref', [None, {}, 'source-name', ['x']])
def test_a_ref_that_is_not_an_object_is_refused(ref):
    with pytest.raises(exception.Invalid):
        manageable.checked_ref(ref)


@pytest.mark.parametrize('data', [{}, {'host': ''}, {'host': 5}])
def test_a_volume_without_a_host_is_refused(data):
    with pytest.raises(exception.Invalid):
        manageable.backend_of(data)


def test_the_cluster_comes_before_the_host():
    assert manageable.backend_of({'host': 'a@b#c',
                                  'cluster_name': 'cl@b'}) == 'cl@b'


def _group_args():
    first, _ = wire._casts('create_group')
    return copy.deepcopy(first['message']['args'])


@pytest.mark.parametrize('change', [
    lambda a: a.update(request_spec_list=[]),
    lambda a: a.update(request_spec_list={'a': 1}),
    lambda a: a.update(request_spec_list=['spec']),
    lambda a: a.update(group_spec='spec'),
    lambda a: a['request_spec_list'][1]['volume_properties'].update(
        size='0'),
    lambda a: a['group_spec']['volume_properties'].update(size=None)])
def test_malformed_group_specs_are_refused(change):
    args = _group_args()
    change(args)
    with pytest.raises(exception.Invalid):
        groups_ops.checked_specs(args['group_spec'],
                                 args['request_spec_list'])


def test_the_captured_group_specs_are_accepted():
    args = _group_args()
    group_spec, specs = groups_ops.checked_specs(args['group_spec'],
                                                 args['request_spec_list'])
    assert group_spec['group_id'] == args['group']['versioned_object.data'][
        'id']
    assert [s['volume_type']['name'] for s in specs] == ['group-a',
                                                         'group-b']


class _Pool:
    def __init__(self, host):
        self.host = host


def test_group_backends_are_matched_at_the_backend_level_in_order():
    first = [_Pool('h@b2#p1'), _Pool('h@b1#p'), _Pool('h@b2#p2')]
    second = [_Pool('h@b2#other')]
    assert [p.host for p in groups_ops._same_backend(first, second)] == [
        'h@b2#p1', 'h@b2#p2']
    assert groups_ops._same_backend(first, [_Pool('h@b3#p')]) == []
