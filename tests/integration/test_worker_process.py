"""The worker as operators run it: console script, config file, signals."""

import uuid

import oslo_messaging
import pytest
import sqlalchemy as sa

from scheduler_worker import notifications
from tests import fixtures

END = notifications.CREATE_END
SECRET = 'SECRET-TOKEN-must-not-leak'
# NOTE: what oslo.service logs at DEBUG at the end of each relay pass.
RELAY_PASS = "relay_notifications' sleeping for"


@pytest.fixture
def deployed(tmp_path, rabbit_vhost):
    """A PostgreSQL database synced by the CLI, and a config for both."""
    url = fixtures.create_database('postgresql', tmp_path)
    topic = fixtures.unique_name('sw-proc')
    notification_topic = fixtures.unique_name('sw-proc-notifications')
    config = fixtures.write_config(tmp_path / 'scheduler-worker.conf', {
        'DEFAULT': {'transport_url': rabbit_vhost.transport_url,
                    'host': 'proc-host', 'debug': True,
                    'state_path': tmp_path},
        'scheduler': {'topic': topic, 'outbox_relay_interval': 1},
        'database': {'connection': url},
        'oslo_messaging_notifications': {'topics': notification_topic},
    })
    fixtures.manage(config, 'db', 'sync')
    # NOTE: one pool in each zone the casts below ask for.
    fixtures.manage(config, 'backend', 'register', 'proc-host@lvm#nova',
                    '--total-gb', '100', '--availability-zone', 'nova')
    fixtures.manage(config, 'backend', 'register', 'proc-host@lvm#az-1',
                    '--total-gb', '100', '--availability-zone', 'az-1')
    conf = fixtures.make_conf(
        transport_url=rabbit_vhost.transport_url,
        oslo_messaging_notifications__topics=[notification_topic])
    transport = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(transport, notification_topic)
    engine = sa.create_engine(url)
    yield config, topic, capture, engine
    capture.stop()
    transport.cleanup()
    engine.dispose()
    fixtures.drop_database(url)


def _rows(engine, volume_ids):
    with engine.connect() as connection:
        return {row.id: row for row in connection.execute(
            sa.text('SELECT * FROM volumes WHERE id IN :ids').bindparams(
                sa.bindparam('ids', expanding=True)), {'ids': volume_ids})}


def test_worker_persists_foreign_casts_and_stops_cleanly(
        deployed, rabbit_vhost, tmp_path):
    config, topic, capture, engine = deployed
    worker = fixtures.WorkerProcess(config, tmp_path / 'worker.log').start()
    try:
        worker.wait_consuming()
        cinder_id, plain_id = str(uuid.uuid4()), str(uuid.uuid4())
        cinder = fixtures.cinder_cast_message(cinder_id)
        plain = fixtures.plain_cast_message(
            {'id': plain_id, 'size': 9, 'display_name': 'plain-dict',
             'availability_zone': 'az-1', 'metadata': {'a': 'b'}},
            user_id='plain-user', project_id='plain-project',
            request_id='req-plain-1', auth_token=SECRET, roles=['member'])
        for message in (cinder, plain):
            fixtures.publish_raw(rabbit_vhost.amqp_url, topic,
                                 fixtures.oslo_envelope(message))
        rows = fixtures.wait_until(
            lambda: (lambda r: r if len(r) == 2 else None)(
                _rows(engine, [cinder_id, plain_id])),
            what='both volumes')
        assert (rows[cinder_id].size, rows[cinder_id].display_name,
                rows[cinder_id].host) == (2, 'cast-vol', 'proc-host@lvm#nova')
        assert (rows[plain_id].size, rows[plain_id].display_name,
                rows[plain_id].availability_zone, rows[plain_id].user_id,
                rows[plain_id].project_id, rows[plain_id].status,
                rows[plain_id].host) == (
            9, 'plain-dict', 'az-1', 'plain-user', 'plain-project',
            'creating', 'proc-host@lvm#az-1')
        capture.wait_for(END, 2)
        # NOTE: three relay passes later, still one notification each, and
        # nothing left for a relay to publish again.
        passes = worker.log().count(RELAY_PASS)
        fixtures.wait_until(
            lambda: worker.log().count(RELAY_PASS) >= passes + 3,
            what='three relay passes')
        with engine.connect() as connection:
            assert connection.execute(sa.text(
                'SELECT count(*) FROM scheduler_worker_outbox')).scalar() == 0
        ids = sorted(n['payload']['volume_id'] for n in capture.of(END))
        assert ids == sorted([cinder_id, plain_id])
        assert all(n['context']['auth_token'] is None
                   for n in capture.received)
        assert worker.terminate() == 0
    finally:
        worker.kill()
    log = worker.log()
    assert SECRET not in log
    assert ('oslo.service backend: threading; RPC executor: threading; '
            'eventlet monkey-patched: False') in log
    # NOTE: one line per volume, or one per batch naming each volume's
    # request; either way the volume and its request id are logged.
    created = [line for line in log.splitlines()
               if 'Created volume' in line and plain_id in line]
    if not created:
        created = [line for line in log.splitlines()
                   if 'Created ' in line and '%s (' % plain_id in line]
    assert created and 'req-plain-1' in created[0]
