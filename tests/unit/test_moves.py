"""retype and migrate_volume: the choice and the onward cast, as Cinder 29's.

The pools are those Cinder 29's volume services reported in the lab
(tests/wire/cinder29/startup.json); each case takes the cast cinder-api
sent to cinder-scheduler in a capture, makes our choice and onward cast
from it, and compares them field by field with the cast Cinder's own
scheduler sent onward in the same capture. The input checks refuse what
Cinder's API never sends, before anything is read or written.
"""

import copy
import datetime
import json
import os

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import moves
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import request
from tests import fixtures

WIRE = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'wire',
                    'cinder29')
ADMIN = context.get_admin_context()


def _messages(name: str) -> list[dict]:
    with open(os.path.join(WIRE, name + '.json')) as f:
        return json.load(f)['messages']


def _casts(operation: str, method: str) -> tuple[dict, dict]:
    """(cinder-api's cast to the scheduler, the scheduler's onward one)."""
    found = [m for m in _messages(operation)
             if m['message'].get('method') == method]
    assert found[0]['routing_key'] == 'cinder-scheduler'
    assert found[1]['routing_key'].startswith('cinder-volume.')
    return found[0]['message'], found[1]


@pytest.fixture
def scheduler(sqlite_db):
    conf = fixtures.make_conf()
    registry = backends.BackendRegistry(conf)
    ctxt = context.get_admin_context()
    for message in _messages('startup'):
        args = message['message'].get('args', {})
        if message['message'].get('method') == \
                'update_service_capabilities' and \
                args['service_name'] == 'volume':
            registry.update_service_capabilities(
                ctxt, 'volume', args['host'], args['capabilities'],
                cluster_name=args['cluster_name'],
                timestamp=args['timestamp'])
    return driver.FilterScheduler(conf)


def _retype_choice(scheduler, args: dict):
    spec = args['request_spec']
    volume = args['volume']['versioned_object.data']
    candidates = scheduler.candidates(ADMIN, request.VolumeRequest(
        None, size=volume['size'], volume_type=spec['volume_type'],
        availability_zones=spec['availability_zones'], request_spec=spec,
        exists_on=volume['host']))
    return moves.retype_target(candidates, volume['host'],
                               spec['migration_policy'], volume['id'],
                               spec['volume_type'])


def _assert_is_cinders(cast, onward: dict) -> None:
    assert '%s.%s' % (cast.topic, cast.server) == onward['routing_key']
    assert (cast.method, cast.version) == (onward['message']['method'],
                                           onward['message']['version'])
    expected = onward['message']['args']
    assert set(cast.args) == set(expected)
    for key in expected:
        assert cast.args[key] == expected[key], key


@pytest.mark.parametrize('operation', ['retype_stay', 'retype_migrate'])
def test_retype_is_the_cast_cinders_scheduler_sends(scheduler, operation):
    sent, onward = _casts(operation, 'retype')
    args = sent['args']
    pool = _retype_choice(scheduler, args)
    cast = moves.retype_cast(
        primitives.Primitive.of(args['volume']),
        args['request_spec']['volume_type']['id'], pool,
        args['request_spec']['migration_policy'],
        args['request_spec']['quota_reservations'],
        args['request_spec']['old_reservations'])
    _assert_is_cinders(cast, onward)


def test_retype_stays_where_the_new_type_fits_the_current_pool(scheduler):
    sent, _ = _casts('retype_stay', 'retype')
    assert _retype_choice(scheduler, sent['args']).host == 'lab@b2#lab'


def test_retype_on_demand_moves_to_the_pool_the_new_type_fits(scheduler):
    sent, _ = _casts('retype_migrate', 'retype')
    assert _retype_choice(scheduler, sent['args']).host == 'lab@b1#lab'


def test_retype_never_refuses_to_leave_the_current_pool(scheduler):
    sent, _ = _casts('retype_migrate', 'retype')
    args = copy.deepcopy(sent['args'])
    args['request_spec']['migration_policy'] = 'never'
    with pytest.raises(exception.NoValidBackend,
                       match='Current backend not valid for volume .* '
                             'migration not allowed'):
        _retype_choice(scheduler, args)


def test_retype_of_a_legacy_host_takes_a_pool_of_its_backend(scheduler):
    sent, _ = _casts('retype_stay', 'retype')
    args = copy.deepcopy(sent['args'])
    args['volume']['versioned_object.data']['host'] = 'lab@b2'
    assert _retype_choice(scheduler, args).host == 'lab@b2#lab'


def test_migrate_is_the_cast_cinders_scheduler_sends(scheduler):
    sent, onward = _casts('migrate_volume', 'migrate_volume')
    args = sent['args']
    spec = args['request_spec']
    pool = moves.migrate_target(scheduler.candidates(
        ADMIN, request.VolumeRequest(
            None, size=spec['volume_properties']['size'],
            volume_type=spec['volume_type'], request_spec=spec)),
        args['backend'])
    cast = moves.migrate_cast(primitives.Primitive.of(args['volume']), pool,
                              args['force_copy'])
    _assert_is_cinders(cast, onward)


def test_migrate_to_a_backend_matches_any_of_its_pools(scheduler):
    candidates = scheduler.candidates(ADMIN, request.VolumeRequest(
        None, size=1, volume_type={}))
    assert moves.migrate_target(candidates, 'lab@b1').host == 'lab@b1#lab'
    assert moves.migrate_target(candidates, 'lab@b1#other') is None
    assert moves.migrate_target(candidates, 'lab') is None


def test_a_clustered_destination_names_its_pool_level_cluster():
    caps = fixtures.lvm_capabilities(fixtures.lvm_pool(
        'pool1', total_gb=100, free_gb=100))
    pool = fixtures.pool(caps, host='host1@lvm')
    pool.cluster_name = 'cluster1@lvm'
    pool.row['backend'].update(capabilities={},
                               reported_at=datetime.datetime(2026, 12, 2))
    assert pool.cinder_backend_id == 'cluster1@lvm#pool1'
    found = moves.destination(pool)
    assert (found['host'], found['cluster_name']) == (
        'host1@lvm#pool1', 'cluster1@lvm#pool1')


# Input checks: what Cinder's API never sends is refused before anything
# is read or written (the Moves here have no outbox, scheduler or DB).

def _retype_args() -> dict:
    sent, _ = _casts('retype_stay', 'retype')
    return copy.deepcopy(sent['args'])


def _migrate_args() -> dict:
    sent, _ = _casts('migrate_volume', 'migrate_volume')
    return copy.deepcopy(sent['args'])


def _received(value):
    """An argument as the serializer hands it over."""
    return primitives.Primitive.of(value) \
        if primitives.is_primitive(value) else value


def _volume(args: dict) -> dict:
    return args['volume']['versioned_object.data']


def _bad_retype(change):
    args = _retype_args()
    change(args)
    return args


@pytest.mark.parametrize('change, reason', [
    (lambda a: a.update(volume={'id': _volume(a)['id']}),
     "volume must be Cinder's Volume 1.x object"),
    (lambda a: _volume(a).pop('id'), 'volume has no id'),
    (lambda a: _volume(a).update(host=None, cluster_name=None),
     'the volume host must be a non-empty string'),
    (lambda a: _volume(a).update(size='1'), 'volume size must be'),
    (lambda a: a.update(request_spec=None), 'request_spec must be a plain'),
    (lambda a: a.update(request_spec={
        'versioned_object.name': 'RequestSpec'}),
     'request_spec must be a plain'),
    (lambda a: a['request_spec'].update(quota_reservations='r1'),
     'quota_reservations must be a list'),
    (lambda a: a['request_spec'].update(old_reservations=[1]),
     'old_reservations must be a list'),
    (lambda a: a['request_spec'].update(migration_policy='always'),
     'migration_policy must be one of never, on-demand'),
    (lambda a: a['request_spec'].update(volume_type='gold'),
     'volume_type must be an object'),
    (lambda a: a['request_spec']['volume_type'].pop('id'),
     'volume_type has no id'),
], ids=['not-a-volume', 'no-id', 'no-host', 'size-string', 'no-spec',
        'spec-ovo', 'reservations-string', 'old-reservations-ints',
        'policy', 'type-string', 'type-no-id'])
def test_a_retype_cinders_api_never_sends_is_invalid(change, reason):
    args = _bad_retype(change)
    with pytest.raises(exception.Invalid, match=reason):
        moves.Moves(None, None, None).retype(
            context.RequestContext(request_id='req-1'),
            _received(args['volume']), args['request_spec'])


@pytest.mark.parametrize('change, reason', [
    (lambda a: a.update(backend=''), 'backend must be a non-empty string'),
    (lambda a: a.update(backend=['lab@b1']),
     'backend must be a non-empty string'),
    (lambda a: a.update(force_copy='false'),
     'force_copy must be true or false'),
    (lambda a: a.update(request_spec=None), 'request_spec must be a plain'),
    (lambda a: a['request_spec'].update(volume_type=[]),
     'volume_type must be an object'),
], ids=['backend-empty', 'backend-list', 'force-copy-string', 'no-spec',
        'type-list'])
def test_a_migration_cinders_api_never_sends_is_invalid(change, reason):
    args = _migrate_args()
    change(args)
    with pytest.raises(exception.Invalid, match=reason):
        moves.Moves(None, None, None).migrate_volume(
            context.RequestContext(request_id='req-1'),
            primitives.Primitive.of(args['volume']), args['backend'],
            args['force_copy'], args['request_spec'], 'migrate_volume')
