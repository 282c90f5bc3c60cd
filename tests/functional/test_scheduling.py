"""Capability reports and placement through the real dispatcher (fake://)."""

import copy
import uuid

import oslo_messaging

from scheduler_worker import context
from scheduler_worker import notifications
from scheduler_worker.db import api as db
from tests import fixtures

END = notifications.CREATE_END
ERROR = notifications.CREATE_ERROR


def _ctx():
    return context.RequestContext('user-1', 'project-1')


def _report(worker, host, *pools, version='3.3', **backend):
    fixtures.cast_capabilities(worker.transport, worker.conf.scheduler.topic,
                               host, fixtures.lvm_capabilities(*pools,
                                                               **backend),
                               version=version)


def _pools(expected):
    def pools():
        found = {p['host']: p for p in db.pool_get_all(
            context.get_admin_context())}
        return found if len(found) == expected else None
    return fixtures.wait_until(pools, what='%d pools' % expected)


def _row(worker, volume_id):
    return fixtures.wait_until(
        lambda: (worker.db.rows('SELECT * FROM volumes WHERE id = :id',
                                id=volume_id) or [None])[0],
        what='volume %s' % volume_id)


def test_fanout_reports_are_stored_and_volumes_placed_on_them(worker):
    _report(worker, 'hostA@lvm', fixtures.lvm_pool('lvm', 10))
    _report(worker, 'hostB@lvm', fixtures.lvm_pool('lvm', 30), version='3.0')
    pools = _pools(2)
    assert pools['hostA@lvm#lvm']['backend']['service_name'] == 'volume'
    volume_id = worker.api.create_volume(_ctx(), {'size': 4})
    row = _row(worker, volume_id)
    # NOTE: the CapacityWeigher prefers the pool with the most room.
    assert (row.host, row.availability_zone, row.status) == (
        'hostB@lvm#lvm', 'nova', 'creating')
    assert row.scheduled_at is not None
    [note] = worker.notifications.wait_for(END, 1)
    assert note['payload']['host'] == 'hostB@lvm#lvm'
    assert _pools(2)['hostB@lvm#lvm']['allocated_gb'] == 4


def test_unreadable_report_is_dropped_without_stopping_the_worker(worker):
    fixtures.cast_capabilities(worker.transport, worker.conf.scheduler.topic,
                               'bad@lvm', {'pools': 'not-a-list'})
    # NOTE: Cinder volume services also cast this one; it is accepted.
    client = oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer())
    client.prepare(version='3.5').cast(
        {}, 'notify_service_capabilities', service_name='volume',
        backend='hostA@lvm', capabilities={}, timestamp=None)
    _report(worker, 'good@lvm', fixtures.lvm_pool('lvm', 10))
    assert list(_pools(1)) == ['good@lvm#lvm']
    volume_id = worker.api.create_volume(_ctx(), {'size': 1})
    assert _row(worker, volume_id).host == 'good@lvm#lvm'
    worker.notifications.wait_for(END, 1)
    assert worker.notifications.of(ERROR) == []
    assert [n['event_type'] for n in worker.notifications.received] == [END]


def test_volume_for_an_unknown_zone_is_refused_with_the_known_ones(
        worker, pools):
    volume_id = worker.api.create_volume(
        _ctx(), {'size': 1, 'availability_zone': 'az9'})
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert note['payload']['reason'] == (
        "NoValidBackend('No valid backend was found. No backend in "
        "availability zone \"az9\" (known zones: az1, nova)')")
    assert note['payload']['volume_properties']['availability_zone'] == 'az9'
    row = _row(worker, volume_id)
    assert (row.status, row.host, row.availability_zone) == (
        'error', None, 'az9')


def test_cinder_volume_type_extra_specs_choose_the_backend(worker):
    _report(worker, 'hostA@lvm', fixtures.lvm_pool('lvm', 100))
    _report(worker, 'hostB@gold', fixtures.lvm_pool('gold', 10),
            volume_backend_name='gold')
    _pools(2)
    sample = fixtures.wire_sample('create_volume_cast.json')['message']
    ctxt = {k[len('_context_'):]: v for k, v in sample.items()
            if k.startswith('_context_')}
    volume_ids = [str(uuid.uuid4()) for _ in range(2)]
    for volume_id, backend in zip(volume_ids, ('gold', 'silver'),
                                  strict=True):
        args = copy.deepcopy(sample['args'])
        args['volume']['versioned_object.data']['id'] = volume_id
        spec = args['request_spec']['versioned_object.data']
        spec['volume_id'] = volume_id
        spec['volume_type']['versioned_object.data']['extra_specs'] = {
            'volume_backend_name': backend}
        client = oslo_messaging.get_rpc_client(
            worker.transport,
            oslo_messaging.Target(topic=worker.conf.scheduler.topic),
            serializer=oslo_messaging.NoOpSerializer())
        client.prepare(version='3.0').cast(ctxt, 'create_volume', **args)
    assert _row(worker, volume_ids[0]).host == 'hostB@gold#gold'
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert note['payload']['volume_id'] == volume_ids[1]
    assert note['payload']['reason'] == (
        "NoValidBackend('No valid backend was found. No backend meets the "
        "extra specs of volume type \"__DEFAULT__\": "
        "volume_backend_name=silver')")
