"""The onward casts, field by field against what Cinder 29's scheduler sent.

Each test takes the cast cinder-api sent to cinder-scheduler in the lab
(tests/wire/cinder29/), builds our onward cast from it, and compares it
with the cast Cinder's own scheduler sent onward in the same capture.
"""

import datetime
import json
import os

from scheduler_worker import volume_rpcapi
from scheduler_worker.objects import primitives

WIRE = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'wire',
                    'cinder29')


def _casts(operation: str) -> tuple[dict, dict]:
    """(the cast to cinder-scheduler, the cast it sent onward)."""
    with open(os.path.join(WIRE, operation + '.json')) as f:
        messages = json.load(f)['messages']
    first = next(m for m in messages if m['routing_key'] ==
                 'cinder-scheduler')
    onward = next(m for m in messages if m['t'] > first['t'] and
                  m['routing_key'].startswith(('cinder-volume.',
                                               'cinder-backup.')))
    return first, onward


def _primitive(value: dict) -> primitives.Primitive:
    return primitives.Primitive.of(value)


def _routing_key(cast: volume_rpcapi.Cast) -> str:
    return '%s.%s' % (cast.topic, cast.server)


def _scheduled_at(onward_volume: dict) -> datetime.datetime:
    return datetime.datetime.strptime(
        onward_volume['versioned_object.data']['scheduled_at'],
        '%Y-%m-%dT%H:%M:%SZ')


def test_create_volume_is_the_cast_cinders_scheduler_sends():
    first, onward = _casts('create_volume')
    args, expected = first['message']['args'], onward['message']['args']
    expected_volume = expected['volume']['versioned_object.data']
    volume = volume_rpcapi.placed_volume(
        _primitive(args['request_spec']['versioned_object.data']['volume']),
        expected_volume['host'], None, _scheduled_at(expected['volume']),
        expected_volume['availability_zone'])
    spec = _primitive(args['request_spec'])
    plain = primitives.to_plain(args['request_spec'])
    retry = volume_rpcapi.retry_after(args['filter_properties'],
                                      expected_volume['host'], 3)
    cast = volume_rpcapi.create_volume(
        volume, spec, volume_rpcapi.onward_filter_properties(
            args['filter_properties'], plain,
            args['request_spec']['versioned_object.data']['volume_type'],
            retry))
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == ('create_volume', '3.0')
    assert set(cast.args) == set(expected)
    assert cast.args['allow_reschedule'] is True
    got_volume = cast.args['volume']
    # NOTE: Cinder's Volume.save() loads glance_metadata ({} here), which
    # the volume service loads itself when absent.
    assert {k: v for k, v in got_volume.items()} == {
        k: v for k, v in expected['volume'].items()
        if k != 'versioned_object.data'} | {
            'versioned_object.data': {
                k: v for k, v in expected_volume.items()
                if k != 'glance_metadata'}}
    # NOTE: the request spec goes on as received, its Volume placed.
    got_spec = cast.args['request_spec']
    expected_spec = expected['request_spec']
    assert got_spec['versioned_object.data']['volume'] == got_volume
    for key, value in expected_spec['versioned_object.data'].items():
        if key not in ('volume', 'volume_properties'):
            assert got_spec['versioned_object.data'][key] == value, key
    assert got_spec['versioned_object.data']['volume_properties'][
        'versioned_object.data'] == expected_spec['versioned_object.data'][
            'volume_properties']['versioned_object.data']
    got_filters = cast.args['filter_properties']
    expected_filters = expected['filter_properties']
    assert set(got_filters) == set(expected_filters)
    for key in ('retry', 'config_options', 'volume_type', 'resource_type',
                'size', 'availability_zone', 'user_id', 'metadata',
                'qos_specs'):
        assert got_filters[key] == expected_filters[key], key
    assert set(got_filters['request_spec']) == set(
        expected_filters['request_spec'])
    assert got_filters['request_spec']['resource_properties'] == \
        expected_filters['request_spec']['resource_properties']


def test_a_reschedule_counts_the_attempt_and_adds_the_backend():
    first, onward = _casts('reschedule')
    with open(os.path.join(WIRE, 'reschedule.json')) as f:
        messages = json.load(f)['messages']
    back = [m for m in messages if m['routing_key'] == 'cinder-scheduler'][1]
    sent_back = back['message']['args']['filter_properties']
    assert sent_back['retry']['exc']
    last = [m for m in messages
            if m['routing_key'].startswith('cinder-volume.')][-1]
    backend = last['message']['args']['volume'][
        'versioned_object.data']['host']
    retry = volume_rpcapi.retry_after(sent_back, backend, 3)
    assert retry == last['message']['args']['filter_properties']['retry']
    assert 'exc' not in retry and 'exc' in sent_back['retry']


def test_one_attempt_sends_no_retry_so_volume_services_never_reschedule():
    assert volume_rpcapi.retry_after({}, 'h@b#p', 1) is None
    onward = volume_rpcapi.onward_filter_properties(
        {'retry': {'num_attempts': 1}, 'scheduler_hints': {'a': 'b'}},
        {}, None, None)
    assert 'retry' not in onward
    assert onward['scheduler_hints'] == {'a': 'b'}
    assert onward['volume_type'] == onward['resource_type'] == {}


def test_extend_volume_goes_to_the_volume_service_as_received():
    first, onward = _casts('extend_volume')
    args, expected = first['message']['args'], onward['message']['args']
    cast = volume_rpcapi.extend_volume(_primitive(args['volume']),
                                       args['new_size'],
                                       args['reservations'])
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == (
        'extend_volume', onward['message']['version'])
    assert cast.args == expected


def test_create_snapshot_sends_only_the_snapshot_to_the_volume_service():
    first, onward = _casts('create_snapshot')
    args, expected = first['message']['args'], onward['message']['args']
    cast = volume_rpcapi.create_snapshot(args['backend'],
                                         _primitive(args['snapshot']))
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == (
        'create_snapshot', onward['message']['version'])
    assert cast.args == expected


def test_create_backup_goes_to_the_chosen_backup_host_with_its_host_set():
    first, onward = _casts('create_backup')
    args, expected = first['message']['args'], onward['message']['args']
    host = expected['backup']['versioned_object.data']['host']
    cast = volume_rpcapi.create_backup(_primitive(args['backup']), host)
    assert _routing_key(cast) == onward['routing_key']
    assert (cast.method, cast.version) == (
        'create_backup', onward['message']['version'])
    assert cast.args == expected


def test_a_clustered_volume_goes_to_its_cluster_and_the_pool_is_stripped():
    assert volume_rpcapi.volume_target('cl@b1#pool') == (
        'cinder-volume.cl@b1', 'cl')
    assert volume_rpcapi.volume_target('h@b') == ('cinder-volume.h@b', 'h')
    volume = _primitive({'versioned_object.name': 'Volume',
                         'versioned_object.namespace': 'cinder',
                         'versioned_object.version': '1.9',
                         'versioned_object.data': {
                             'id': 'x', 'host': 'h@b#p',
                             'cluster_name': 'cl@b#p', 'size': 1}})
    cast = volume_rpcapi.extend_volume(volume, 2, [])
    assert (cast.topic, cast.server) == ('cinder-volume.cl@b', 'cl')


def test_a_placed_volume_lists_its_changes_only_if_the_sender_did():
    received = _primitive({'versioned_object.name': 'Volume',
                           'versioned_object.namespace': 'cinder',
                           'versioned_object.version': '1.9',
                           'versioned_object.data': {'id': 'x'},
                           'versioned_object.changes': ['id']})
    at = datetime.datetime(2026, 12, 2, 1, 2, 3, 456789)
    placed = volume_rpcapi.placed_volume(received, 'h@b#p', None, at, 'nova')
    assert placed.changes == ['id', 'host', 'cluster_name', 'scheduled_at',
                              'availability_zone']
    assert placed.data['scheduled_at'] == '2026-12-02T01:02:03Z'
    unlisted = volume_rpcapi.placed_volume(
        primitives.Primitive('Volume', 'cinder', '1.9', {'id': 'x'}),
        'h@b#p', None, at, 'nova')
    assert 'versioned_object.changes' not in unlisted.to_wire()
