"""Standalone hand-off ([scheduler] hand_off) and the scheduler's calls, whole
worker over fake://.

The volume service is a real RPC server on cinder-volume.<host@backend>,
server <host>, as cinder-volume listens.
"""

import types
import uuid

import oslo_messaging
import pytest

from scheduler_worker import cinder_errors
from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import rpcapi
from scheduler_worker import service
from tests import fixtures


@pytest.fixture
def handing_worker(sqlite_db):
    conf = fixtures.make_conf(transport_url='fake:/', host='fn-host',
                              scheduler__hand_off=True)
    transport = oslo_messaging.get_rpc_transport(conf)
    notes = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(notes)
    fixtures.static_backend('fn-host@lvm#pool', 1000, 'nova')
    volume_service = fixtures.VolumeServiceCapture(
        transport, 'cinder-volume.fn-host@lvm', 'fn-host')
    server = service.WorkerService(conf, transport=transport,
                                   notification_transport=notes)
    server.start()
    yield types.SimpleNamespace(
        conf=conf, db=sqlite_db, transport=transport, notifications=capture,
        volume_service=volume_service,
        api=rpcapi.SchedulerAPI(conf, transport=transport))
    server.stop()
    volume_service.stop()
    capture.stop()
    transport.cleanup()
    notes.cleanup()


def _ctxt():
    return context.RequestContext('u', 'p', auth_token='secret-token',
                                  request_id='req-' + str(uuid.uuid4()))


def test_our_volume_is_handed_to_its_volume_service(handing_worker):
    ctxt = _ctxt()
    volume_id = handing_worker.api.create_volume(
        ctxt, {'size': 2, 'display_name': 'handed'})
    [cast] = handing_worker.volume_service.wait_for(1)
    assert cast['method'] == 'create_volume'
    volume = cast['args']['volume']
    assert volume['versioned_object.name'] == 'Volume'
    data = volume['versioned_object.data']
    assert (data['id'], data['host'], data['size'], data['display_name']) \
        == (volume_id, 'fn-host@lvm#pool', 2, 'handed')
    assert data['scheduled_at'].endswith('Z')
    assert cast['args']['allow_reschedule'] is True
    assert cast['args']['filter_properties']['retry'] == {
        'num_attempts': 1, 'backends': ['fn-host@lvm#pool'],
        'hosts': ['fn-host@lvm#pool']}
    assert cast['context']['auth_token'] == 'secret-token'
    assert cast['context']['request_id'] == ctxt.request_id
    [[host, status]] = handing_worker.db.rows(
        'SELECT host, status FROM volumes WHERE id = :id', id=volume_id)
    assert (host, status) == ('fn-host@lvm#pool', 'creating')


def test_a_volume_no_pool_can_hold_is_not_handed_off(handing_worker):
    handing_worker.api.create_volume(_ctxt(), {'size': 2000})
    handing_worker.notifications.wait_for('scheduler.create_volume', 1)
    fixtures.wait_until(lambda: handing_worker.db.rows(
        'SELECT count(*) FROM scheduler_worker_outbox') == [(0,)],
        what='the outbox emptied')
    assert handing_worker.volume_service.casts == []


def _call(worker, method, **kwargs):
    client = oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer(), timeout=30)
    return client.prepare(version='3.0').call({}, method, **kwargs)


def test_get_pools_is_answered_in_cinders_shape(handing_worker):
    [pool] = _call(handing_worker, 'get_pools', filters=None)
    assert pool['name'] == 'fn-host@lvm#pool'
    assert pool['capabilities']['total_capacity_gb'] == 1000
    assert set(pool['capabilities']) >= {'pool_name', 'timestamp',
                                         'volume_backend_name',
                                         'storage_protocol'}
    assert _call(handing_worker, 'get_pools',
                 filters={'name': 'nope'}) == []


def test_an_unknown_volume_type_comes_back_as_cinders_exception(
        handing_worker):
    # NOTE: the fake driver hands the exception over as raised; on
    # RabbitMQ the failure names module cinder.exception (see
    # tests/unit/scheduler/test_pools.py).
    with pytest.raises(cinder_errors.VolumeTypeNotFoundByName):
        _call(handing_worker, 'get_pools', filters={'volume_type': 'gold'})


def test_cinder_only_methods_are_refused_in_standalone_mode(
        handing_worker):
    with pytest.raises(exception.Invalid) as raised:
        _call(handing_worker, 'extend_volume', volume={}, new_size=2,
              reservations=[])
    assert 'Cinder mode only' in str(raised.value)
    handing_worker.notifications.wait_for('scheduler.extend_volume', 1)
