"""The cast listener after the broker dropped its connection mid-batch.

A broker restart under load closes the listener's connection while casts
are being read into a batch. Reading on kombu's connection object from
there opened a new connection behind the driver's back: the driver found
it connected, never sent basic.consume again, and the worker polled a
connection with no consumer for ever (seen as the RabbitMQ restart fault
test timing out). The listener must consume again on its own.
"""

import threading
import time

import oslo_messaging
import pytest

from scheduler_worker import context
from scheduler_worker.messaging import listener as listener_module
from tests import fixtures


@pytest.fixture
def vhost():
    # NOTE: its own vhost: the test closes every connection to it.
    vhost = fixtures.RabbitVhost()
    yield vhost
    vhost.delete()


@pytest.fixture
def transport(vhost):
    conf = fixtures.make_conf(transport_url=vhost.transport_url)
    transport = oslo_messaging.get_rpc_transport(conf)
    yield transport
    transport.cleanup()


def _poll_one(listener, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        incoming = listener.poll(timeout=0.5, batch_size=64,
                                 batch_timeout=0.005)
        if incoming:
            for message in incoming:
                message.acknowledge()
            # NOTE: acknowledgements are sent by the polling thread.
            listener.poll(timeout=0.1, batch_size=64, batch_timeout=0.005)
            return incoming
    return []


def _read_batch(listener) -> None:
    """What the listener does while casts arrive: read a batch's worth."""
    listener._read_ready(64, 0.05)


def test_the_listener_consumes_again_after_its_connection_was_closed(
        vhost, transport):
    topic = fixtures.unique_name('sw-reconnect')
    target = oslo_messaging.Target(topic=topic, server='h')
    adapter = listener_module.listen(
        transport, target, batch_size=64, batch_timeout=0.005,
        stopping=threading.Event(), free_handlers=threading.Semaphore(1))
    listener = adapter._poll_style_listener
    client = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic=topic))
    ctxt = context.RequestContext('u', 'p')
    try:
        client.cast(ctxt, 'ping', n=1)
        assert [m.message['args'] for m in _poll_one(listener, 30)] == [
            {'n': 1}]
        # NOTE: the broker closes the connection while a batch is being
        # read; the listener reads on, in batches, until it sees it gone.
        kombu_connection = listener.conn.connection.connection
        assert fixtures.close_connections(vhost.name) >= 1
        fixtures.wait_until(
            lambda: _read_batch(listener) or not kombu_connection.connected,
            timeout=30, what='the listener to see its connection closed')
        for _ in range(3):
            _read_batch(listener)
        assert not kombu_connection.connected, \
            "a connection was opened behind the driver's back"

        client.cast(ctxt, 'ping', n=2)
        assert [m.message['args'] for m in _poll_one(listener, 20)] == [
            {'n': 2}], 'the listener did not consume again'
    finally:
        # NOTE: stop() waits for a poll to see the shutdown.
        listener._shutdown.set()
        listener.poll(timeout=0.1)
        listener.stop()
        listener.cleanup()
