import oslo_messaging
import pytest

from scheduler_worker import context
from scheduler_worker import objects
from scheduler_worker import rpcapi
from tests import fixtures


class Endpoint:
    target = oslo_messaging.Target(version='3.0')

    def __init__(self):
        self.calls = []

    def create_volume(self, ctxt, **kwargs):
        self.calls.append((ctxt, kwargs))


@pytest.fixture
def api_and_endpoint():
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_rpc_transport(conf)
    endpoint = Endpoint()
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=conf.scheduler.topic,
                                         server='s'), [endpoint])
    server.start()
    yield rpcapi.SchedulerAPI(conf, transport=transport), endpoint
    server.stop()
    server.wait()
    transport.cleanup()


def test_create_volume_always_sends_an_id(api_and_endpoint):
    api, endpoint = api_and_endpoint
    volume = {'size': 1}
    volume_id = api.create_volume(context.RequestContext('u', 'p'), volume)
    assert volume['id'] == volume_id
    fixtures.wait_until(lambda: endpoint.calls, what='the cast')
    ctxt, kwargs = endpoint.calls[0]
    assert kwargs['volume']['id'] == volume_id
    assert set(kwargs) == {'volume', 'request_spec', 'filter_properties',
                           'snapshot_id', 'image_id', 'backup_id'}
    assert ctxt['user_id'] == 'u'


def test_volume_object_keeps_its_id(api_and_endpoint):
    api, endpoint = api_and_endpoint
    volume = objects.Volume(id='0da5e6b0-cc62-4f93-b967-79a973598bb3',
                            size=1)
    assert api.create_volume(context.RequestContext(), volume) == volume.id
    fixtures.wait_until(lambda: endpoint.calls, what='the cast')
    sent = endpoint.calls[0][1]['volume']
    assert sent['versioned_object.data']['id'] == volume.id
