"""A deployed worker for fault injection: real processes, real services.

These tests kill workers and restart RabbitMQ and PostgreSQL (which other
test runs on the machine share: each run has its own vhost and database,
and every service is left running).
"""

import os
import random
import types
import uuid

import oslo_messaging
import pytest
import sqlalchemy as sa

from tests import fixtures

TEST_APPLICATION = 'scheduler-worker-fault-test'


class Deployment:
    """A database (PostgreSQL unless told), a topic in the run's vhost,
    a worker config."""

    def __init__(self, tmp_path, vhost, backend: str = 'postgresql',
                 **options) -> None:
        self.tmp_path = tmp_path
        self.vhost = vhost
        self.url = fixtures.create_database(backend, tmp_path)
        # NOTE: pre-ping: the test itself must survive database restarts.
        # Named, so that counting the workers' connections can leave the
        # test's own out.
        self.engine = sa.create_engine(
            self.url, pool_pre_ping=True,
            connect_args={'application_name': TEST_APPLICATION}
            if backend == 'postgresql' else {})
        self.topic = fixtures.unique_name('sw-fault')
        self.notification_topic = fixtures.unique_name('sw-fault-notes')
        sections = {
            'DEFAULT': {'transport_url': vhost.transport_url,
                        'host': 'fault-host', 'state_path': tmp_path},
            'scheduler': {'topic': self.topic, 'outbox_relay_interval': 2},
            'database': {'connection': self.url},
            'oslo_messaging_notifications': {
                'topics': self.notification_topic},
            # NOTE: durable queues, so that casts and notifications
            # survive the broker restarts these tests inflict.
            'oslo_messaging_rabbit': {'amqp_durable_queues': True},
        }
        for key, value in options.items():
            section, _, name = key.rpartition('.')
            sections.setdefault(section or 'DEFAULT', {})[name] = value
        self.config = fixtures.write_config(tmp_path / 'worker.conf',
                                            sections)
        fixtures.manage(self.config, 'db', 'sync')
        # NOTE: room for every volume the casts below ask for, in the zone
        # of Cinder's casts and for those that name none.
        fixtures.manage(self.config, 'backend', 'register',
                        'fault-host@lvm#pool', '--total-gb', '1000000',
                        '--availability-zone', 'nova')
        conf = fixtures.make_conf(
            transport_url=vhost.transport_url,
            oslo_messaging_notifications__topics=[self.notification_topic],
            oslo_messaging_rabbit__amqp_durable_queues=True)
        self._transport = oslo_messaging.get_notification_transport(conf)
        self.notifications = fixtures.NotificationCapture(
            self._transport, self.notification_topic)
        self.workers = []

    def worker(self, name: str = 'worker') -> fixtures.WorkerProcess:
        process = fixtures.WorkerProcess(
            self.config, self.tmp_path / ('%s-%d.log' % (
                name, len(self.workers))))
        self.workers.append(process)
        return process.start()

    def declare_queues(self) -> None:
        """Start and stop a worker once: its queues then hold preloads."""
        worker = self.worker('declare')
        worker.wait_consuming()
        assert worker.terminate() == 0

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))

    def volume_count(self) -> int:
        return self.rows('SELECT count(*) FROM volumes')[0][0]

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.notifications.stop()
        self._transport.cleanup()
        self.engine.dispose()
        fixtures.drop_database(self.url)


@pytest.fixture
def rng():
    """A random generator; a failing test shows its seed to replay it.

    SW_TEST_SEED=N replays a run (pytest shows what a failing test
    printed, this line among it).
    """
    seed = int(os.environ.get('SW_TEST_SEED') or random.randrange(1 << 30))
    print('random seed %d: replay with SW_TEST_SEED=%d' % (seed, seed))
    return random.Random(seed)


@pytest.fixture
def deployment(tmp_path):
    """Deploys with its own vhost: durable exchanges (these tests use
    them) cannot share a vhost with the transient ones of other tests."""
    created = []

    def deploy(backend: str = 'postgresql', **options) -> Deployment:
        vhost = fixtures.RabbitVhost()
        created.append((Deployment(tmp_path, vhost, backend, **options),
                        vhost))
        return created[-1][0]
    yield deploy
    for each, vhost in created:
        each.close()
        vhost.delete()


def mixed_casts(count: int, tag: str) -> types.SimpleNamespace:
    """Cinder wire casts and plain-dict casts (a third without an id)."""
    bodies, names, ids = [], [], []
    for i in range(count):
        name = '%s-%05d' % (tag, i)
        names.append(name)
        if i % 3 == 0:
            volume_id = str(uuid.uuid4())
            message = fixtures.cinder_cast_message(volume_id)
            data = message['args']['volume']['versioned_object.data']
            data['display_name'] = name
            ids.append(volume_id)
        elif i % 3 == 1:
            volume_id = str(uuid.uuid4())
            message = fixtures.plain_cast_message(
                {'id': volume_id, 'size': 1 + i % 7, 'display_name': name},
                user_id='u', project_id='p', request_id='req-%s' % name)
            ids.append(volume_id)
        else:
            message = fixtures.plain_cast_message(
                {'size': 1 + i % 5, 'display_name': name},
                user_id='u', project_id='p', request_id='req-%s' % name)
        bodies.append(fixtures.oslo_envelope(message))
    return types.SimpleNamespace(bodies=bodies, names=names, ids=ids)
