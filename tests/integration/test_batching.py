"""Over the real broker, casts reach the batch handler together; calls not."""

import threading

import oslo_messaging

from scheduler_worker.messaging import server as rpc_server
from tests import fixtures


class RecordingBatch:
    method = 'create_volume'
    target = oslo_messaging.Target(version='3.12')

    def __init__(self, expected: int) -> None:
        self.sizes = []
        self.done = threading.Event()
        self._expected = expected

    def __call__(self, casts):
        self.sizes.append(len(casts))
        if sum(self.sizes) >= self._expected:
            self.done.set()
        return [None] * len(casts)


class Endpoint:
    target = oslo_messaging.Target(version='3.12')

    def create_volume(self, context, **kwargs):
        return 'handled alone'


def test_preloaded_casts_are_batched_and_calls_answered(rabbit_vhost):
    conf = fixtures.make_conf(transport_url=rabbit_vhost.transport_url)
    transport = oslo_messaging.get_rpc_transport(conf)
    topic = fixtures.unique_name('sw-batching')
    batch = RecordingBatch(expected=300)

    def server():
        return rpc_server.get_rpc_server(
            transport, topic, 'h', [Endpoint()], lambda *a: None, 1 << 20,
            batch_size=64, batch_timeout=0.005, batch_handlers=[batch],
            concurrency=2)
    declaring = server()
    declaring.start()
    declaring.stop()
    declaring.wait()
    fixtures.publish_many(rabbit_vhost.amqp_url, topic, [
        fixtures.oslo_envelope(fixtures.plain_cast_message(
            {'size': 1}, request_id='req-%d' % i)) for i in range(300)])
    consuming = server()
    consuming.start()
    try:
        assert batch.done.wait(60)
        reply = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic),
            serializer=oslo_messaging.NoOpSerializer(), timeout=30
        ).prepare(version='3.0').call({}, 'create_volume', volume={})
    finally:
        consuming.stop()
        consuming.wait()
        transport.cleanup()
    assert sum(batch.sizes) == 300
    assert max(batch.sizes) > 1
    assert reply == 'handled alone'
