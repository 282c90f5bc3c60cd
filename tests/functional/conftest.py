"""The whole worker in-process over oslo.messaging's fake:// transport."""

import types

import oslo_messaging
import pytest

from scheduler_worker import rpcapi
from scheduler_worker import service
from tests import fixtures


@pytest.fixture
def worker(sqlite_db):
    conf = fixtures.make_conf(transport_url='fake:/', host='fn-host')
    transport = oslo_messaging.get_rpc_transport(conf)
    notification_transport = oslo_messaging.get_notification_transport(conf)
    notifications = fixtures.NotificationCapture(notification_transport)
    server = service.WorkerService(
        conf, transport=transport,
        notification_transport=notification_transport)
    server.start()
    yield types.SimpleNamespace(
        conf=conf, db=sqlite_db, service=server, transport=transport,
        notifications=notifications,
        api=rpcapi.SchedulerAPI(conf, transport=transport))
    server.stop()
    notifications.stop()
    transport.cleanup()
    notification_transport.cleanup()


@pytest.fixture
def pools(worker):
    """Two pools that never expire: one in zone nova, one in az1."""
    return [fixtures.static_backend('fn-host@lvm#pool', 1000, 'nova'),
            fixtures.static_backend('h@b#p', 100, 'az1')]
