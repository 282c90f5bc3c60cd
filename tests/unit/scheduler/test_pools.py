"""get_pools: Cinder's reply shape and filters, from Cinder's own reports.

The reports are those Cinder 29's volume services sent in the lab
(tests/wire/cinder29/startup.json); the expected shape is the reply Cinder's
scheduler gave in the same lab (get_pools.json).
"""

import datetime
import json
import os

from oslo_messaging._drivers import common as rpc_common
import pytest

from scheduler_worker import cinder_errors
from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import pools
from tests import fixtures

WIRE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    __file__))), 'wire', 'cinder29')


def _wire(name: str) -> dict:
    with open(os.path.join(WIRE, name)) as f:
        return json.load(f)


def _reports() -> list[dict]:
    return [m['message']['args'] for m in _wire('startup.json')['messages']
            if m['message'].get('method') == 'update_service_capabilities'
            and m['message']['args']['service_name'] == 'volume']


@pytest.fixture
def scheduler(sqlite_db):
    conf = fixtures.make_conf()
    registry = backends.BackendRegistry(conf)
    ctxt = context.get_admin_context()
    for report in _reports():
        registry.update_service_capabilities(
            ctxt, report['service_name'], report['host'],
            report['capabilities'], cluster_name=report['cluster_name'],
            timestamp=report['timestamp'])
    return driver.FilterScheduler(conf)


def _expected(report: dict) -> dict[str, dict]:
    """What Cinder's HostManager makes of a report: pool name -> caps."""
    caps = report['capabilities']
    result = {}
    for pool in caps['pools']:
        expected = dict(pool)
        for key in ('volume_backend_name', 'storage_protocol',
                    'vendor_name', 'driver_version', 'filter_function',
                    'goodness_function'):
            expected.setdefault(key, caps.get(key))
        expected['timestamp'] = report['timestamp']
        result['%s#%s' % (report['host'], pool['pool_name'])] = expected
    return result


def test_every_pool_in_cinders_reply_shape(scheduler):
    reply = pools.get_pools(context.get_admin_context(), scheduler, None)
    expected = {}
    for report in _reports():
        expected.update(_expected(report))
    assert [entry['name'] for entry in reply] == sorted(expected)
    for entry in reply:
        assert set(entry) == {'name', 'capabilities'}
        assert entry['capabilities'] == expected[entry['name']]
    # NOTE: the same fields as Cinder's own reply, later in the same lab.
    [cinder_reply] = _wire('get_pools.json')['replayed_calls'][0]['reply']
    cinder_pools = {p['name']: p for p in cinder_reply['message']['result']}
    for entry in reply:
        assert set(entry['capabilities']) == set(
            cinder_pools[entry['name']]['capabilities'])


def test_name_filter_matches_the_whole_pool_name_only(scheduler):
    ctxt = context.get_admin_context()
    [entry] = pools.get_pools(ctxt, scheduler, {'name': 'lab@b2#lab'})
    assert entry['name'] == 'lab@b2#lab'
    assert pools.get_pools(ctxt, scheduler, {'name': 'lab@b2'}) == []


def test_other_filters_compare_capabilities_as_cinder_converts_them(
        scheduler):
    ctxt = context.get_admin_context()
    names = [e['name'] for e in pools.get_pools(
        ctxt, scheduler, {'total_capacity_gb': '1500'})]
    assert names == ['lab@b3#lab']
    assert len(pools.get_pools(ctxt, scheduler,
                               {'thick_provisioning_support': 'true'})) == 3
    assert pools.get_pools(ctxt, scheduler, {'QoS_support': 'true'}) == []
    assert pools.get_pools(ctxt, scheduler, {'no_such_key': 'x'}) == []


def test_volume_type_filter_keeps_the_pools_its_extra_specs_fit(scheduler):
    ctxt = context.get_admin_context()
    types = {'flaky': {'id': 't1', 'name': 'flaky', 'extra_specs': {
        'volume_backend_name': 'flaky'}}}
    [entry] = pools.get_pools(ctxt, scheduler, {'volume_type': 'flaky'},
                              lambda c, name: types.get(name))
    assert entry['name'] == 'lab@b3#lab'


def test_an_unknown_volume_type_is_cinders_not_found_error(scheduler):
    ctxt = context.get_admin_context()
    with pytest.raises(cinder_errors.VolumeTypeNotFoundByName) as caught:
        pools.get_pools(ctxt, scheduler, {'volume_type': 'nope'},
                        lambda c, name: None)
    error = caught.value
    # NOTE: what cinder-api needs to raise its own class: module, name,
    # kwargs (oslo.messaging's serialize_remote_exception reads these).
    assert type(error).__module__ == 'cinder.exception'
    assert type(error).__name__ == 'VolumeTypeNotFoundByName'
    assert error.kwargs == {'volume_type_name': 'nope'}
    assert str(error) == 'Volume type with name nope could not be found.'
    failure = json.loads(rpc_common.serialize_remote_exception(
        (type(error), error, None)))
    assert (failure['module'], failure['class'], failure['kwargs']) == (
        'cinder.exception', 'VolumeTypeNotFoundByName',
        {'volume_type_name': 'nope'})


def test_filters_that_are_not_an_object_are_refused(scheduler):
    with pytest.raises(exception.Invalid):
        pools.get_pools(context.get_admin_context(), scheduler, ['name'])


def test_a_clustered_backend_lists_its_pools_under_the_cluster():
    row = {'name': 'p', 'host': 'h@b#p', 'capabilities': {'pool_name': 'p'},
           'backend': {'cluster_name': 'cl@b', 'capabilities': {},
                       'reported_at': datetime.datetime(2026, 1, 1)}}
    [entry] = pools.listed([row], {})
    assert entry['name'] == 'cl@b#p'
    assert entry['capabilities']['timestamp'] == '2026-01-01T00:00:00.000000'


def test_storage_protocol_variants_are_listed_as_cinder_lists_them():
    row = {'name': 'p', 'host': 'h@b#p',
           'capabilities': {'pool_name': 'p', 'storage_protocol': 'iscsi'},
           'backend': {'cluster_name': None,
                       'capabilities': {'storage_protocol': 'iscsi'},
                       'reported_at': datetime.datetime(2026, 1, 1)}}
    [entry] = pools.listed([row], {})
    assert entry['capabilities']['storage_protocol'] == ['iSCSI', 'iscsi']
