"""Cinder's own SchedulerAPI asks the worker over RabbitMQ: log levels and
validate_host_capacity answered as cinder-api expects them.

The client runs in Cinder 29's interpreter (tests/integration/
cinder_scheduler_client.py): the reply goes through Cinder's serializer
and objects, exactly as in cinder-api's os-services get-log.
"""

import json
import logging
import os
import subprocess
import types

import oslo_messaging
import pytest

from scheduler_worker import log_levels
from scheduler_worker import service
from tests import fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HOST = 'it-admin'


def _cinder_python() -> str:
    venv = os.environ.get('SW_CINDER_VENV') or os.path.join(ROOT,
                                                            '.cinder-venv')
    if not os.path.exists(os.path.join(venv, '.installed')):
        fixtures.unavailable('Cinder 29 in %s (make cinder-venv)' % venv)
    return os.path.join(venv, 'bin', 'python')


@pytest.fixture
def levels_kept():
    """The loggers' levels as they were, once the test is over."""
    kept = {name: logger.level for name, logger in
            logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)}
    yield
    for name, level in kept.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def admin_worker(sqlite_db, rabbit_vhost):
    topic = fixtures.unique_name('sw-admin')
    notification_topic = fixtures.unique_name('sw-notifications')
    conf = fixtures.make_conf(
        transport_url=rabbit_vhost.transport_url, host=HOST,
        scheduler__topic=topic,
        oslo_messaging_notifications__topics=[notification_topic])
    notification_transport = oslo_messaging.get_notification_transport(conf)
    notifications = fixtures.NotificationCapture(notification_transport,
                                                 topic=notification_topic)
    fixtures.static_backend(HOST + '@lvm#pool', 100, 'nova', conf=conf)
    server = service.WorkerService(conf)
    server.start()
    yield types.SimpleNamespace(conf=conf, topic=topic, vhost=rabbit_vhost,
                                notifications=notifications)
    server.stop()
    notifications.stop()
    notification_transport.cleanup()


class CinderClient:
    """Cinder's SchedulerAPI in Cinder's interpreter, one request a line."""

    def __init__(self, tmp_path, worker) -> None:
        config = tmp_path / 'cinder-client.conf'
        config.write_text('[DEFAULT]\ntransport_url = %s\n'
                          'rpc_response_timeout = 30\n'
                          % worker.vhost.transport_url)
        self._process = subprocess.Popen(
            [_cinder_python(), os.path.join(HERE,
                                            'cinder_scheduler_client.py'),
             str(config), worker.topic, HOST],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)

    def ask(self, **request) -> dict:
        self._process.stdin.write(json.dumps(request) + '\n')
        self._process.stdin.flush()
        # NOTE: every request is answered within the client's 30 s RPC
        # timeout, so this read ends.
        line = self._process.stdout.readline()
        assert line, 'the Cinder client ended'
        return json.loads(line)

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=60)


@pytest.fixture
def cinder(tmp_path, admin_worker):
    client = CinderClient(tmp_path, admin_worker)
    yield client
    client.close()


def test_cinder_reads_the_log_levels_of_the_worker(cinder):
    answer = cinder.ask(get_log_levels='scheduler_worker')
    assert answer['type'] == 'LogLevelList'
    assert answer['levels'] == log_levels.get('scheduler_worker')
    assert 'scheduler_worker.admin' in answer['levels']


def test_cinder_sets_a_log_level_at_run_time(cinder, levels_kept):
    driver_log = logging.getLogger('scheduler_worker.scheduler.driver')
    driver_log.setLevel(logging.WARNING)
    assert cinder.ask(set_log_levels=['scheduler_worker.scheduler',
                                      'debug']) == {'cast': True}
    fixtures.wait_until(lambda: driver_log.level == logging.DEBUG,
                        what='the level set')
    answer = cinder.ask(get_log_levels='scheduler_worker.scheduler')
    assert set(answer['levels'].values()) == {'DEBUG'}


def test_a_bad_level_from_cinder_is_refused_and_reported(
        cinder, admin_worker, levels_kept):
    driver_log = logging.getLogger('scheduler_worker.scheduler.driver')
    driver_log.setLevel(logging.WARNING)
    cinder.ask(set_log_levels=['scheduler_worker', 'LOUD'])
    [report] = admin_worker.notifications.wait_for(
        'scheduler.set_log_levels', 1)
    assert report['priority'] == 'ERROR'
    assert "'LOUD' is not a valid log level" in report['payload']['reason']
    assert driver_log.level == logging.WARNING


def test_a_malformed_call_gets_the_error_not_a_timeout(admin_worker):
    transport = oslo_messaging.get_rpc_transport(admin_worker.conf)
    try:
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=admin_worker.topic,
                                             server=HOST, version='3.7'),
            serializer=oslo_messaging.NoOpSerializer(), timeout=30)
        with pytest.raises(oslo_messaging.RemoteError) as raised:
            client.call({}, 'get_log_levels', log_request={'prefix': 7})
    finally:
        transport.cleanup()
    assert raised.value.exc_type == 'InvalidLogRequest'
    admin_worker.notifications.wait_for('scheduler.get_log_levels', 1)


def test_cinder_validates_host_capacity(cinder):
    # NOTE: the one pool holds 100 GiB.
    assert cinder.ask(validate_host_capacity=[HOST + '@lvm#pool', 100]) == {
        'result': True}
    assert cinder.ask(validate_host_capacity=[HOST + '@lvm', 100]) == {
        'result': True}
    assert cinder.ask(validate_host_capacity=[HOST + '@lvm#pool', 101]) == {
        'result': False}
    assert cinder.ask(validate_host_capacity=['nohost@x', 1]) == {
        'result': False}
