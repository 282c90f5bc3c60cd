"""In-process workers on the real RabbitMQ, one vhost per run."""

import types

import oslo_messaging
import pytest

from scheduler_worker import rpcapi
from scheduler_worker import service
from tests import fixtures


@pytest.fixture
def rabbit_worker(any_db, rabbit_vhost):
    """A worker on its own topic in this run's vhost, on each database."""
    topic = fixtures.unique_name('sw-topic')
    notification_topic = fixtures.unique_name('sw-notifications')
    conf = fixtures.make_conf(
        transport_url=rabbit_vhost.transport_url, host='it-host',
        scheduler__topic=topic,
        oslo_messaging_notifications__topics=[notification_topic])
    notification_transport = oslo_messaging.get_notification_transport(conf)
    notifications = fixtures.NotificationCapture(notification_transport,
                                                 topic=notification_topic)
    # NOTE: volumes without a host need a pool to be placed on.
    fixtures.static_backend('it-host@lvm#pool', 1000, 'nova', conf=conf)
    server = service.WorkerService(conf)
    server.start()
    api = rpcapi.SchedulerAPI(conf)
    yield types.SimpleNamespace(conf=conf, db=any_db, topic=topic,
                                vhost=rabbit_vhost, api=api,
                                notifications=notifications)
    server.stop()
    notifications.stop()
    api._transport.cleanup()
    notification_transport.cleanup()


@pytest.fixture
def deployment(tmp_path, rabbit_vhost):
    """Deployments (see fixtures.Deployment) dropped after the test."""
    created = []

    def deploy(**kwargs) -> fixtures.Deployment:
        created.append(fixtures.Deployment(tmp_path, rabbit_vhost, **kwargs))
        return created[-1]
    yield deploy
    for each in created:
        each.close()
