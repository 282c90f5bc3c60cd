"""RabbitMQ and PostgreSQL restarted under load: the worker carries on."""

import threading

from tests import fixtures
from tests.fault.conftest import mixed_casts
from tests.fault.conftest import TEST_APPLICATION
from tests.fault.test_crashes import _assert_exactly_once
from tests.fault.test_crashes import _drained


def _restart_mid_load(deployment, restart, casts) -> fixtures.WorkerProcess:
    deployment.declare_queues()
    fixtures.publish_many(deployment.vhost.amqp_url, deployment.topic,
                          casts.bodies)
    worker = deployment.worker()
    worker.wait_consuming()
    fixtures.wait_until(lambda: deployment.volume_count() > 50,
                        what='the drain to be under way')
    restart()
    fixtures.wait_until(lambda: _drained(deployment, len(casts.names)),
                        timeout=240, what='the drain to finish by itself')
    return worker


def test_rabbitmq_restart_mid_load_loses_nothing(deployment):
    deployment = deployment()
    casts = mixed_casts(1500, 'rabbit-restart')
    worker = _restart_mid_load(deployment, fixtures.restart_rabbitmq, casts)
    assert worker.process.poll() is None, 'the worker did not survive'
    assert worker.terminate() == 0
    _assert_exactly_once(deployment, casts)


def test_postgresql_restart_mid_load_loses_nothing(deployment):
    deployment = deployment()
    casts = mixed_casts(1500, 'pg-restart')
    worker = _restart_mid_load(deployment, fixtures.restart_postgresql,
                               casts)
    assert worker.process.poll() is None, 'the worker did not survive'
    assert worker.terminate() == 0
    _assert_exactly_once(deployment, casts)


def test_burst_of_5000_never_exhausts_postgresql_connections(deployment):
    # NOTE: two processes at the default concurrency, against PostgreSQL's
    # stock max_connections = 100, with the heartbeats and relays.
    deployment = deployment(**{'DEFAULT.workers': 2})
    deployment.declare_queues()
    casts = mixed_casts(5000, 'burst')
    fixtures.publish_many(deployment.vhost.amqp_url, deployment.topic,
                          casts.bodies)
    peak = []
    done = threading.Event()

    def sample_connections():
        while not done.wait(0.2):
            peak.append(deployment.rows(
                'SELECT count(*) FROM pg_stat_activity WHERE datname = '
                'current_database() AND application_name != :test',
                test=TEST_APPLICATION)[0][0])
    sampler = threading.Thread(target=sample_connections)
    sampler.start()
    worker = deployment.worker()
    try:
        worker.wait_consuming(count=2)
        fixtures.wait_until(lambda: _drained(deployment, len(casts.names)),
                            timeout=600, what='the burst to drain')
    finally:
        done.set()
        sampler.join()
    assert worker.terminate() == 0
    log = worker.log()
    for exhausted in ('too many clients', 'remaining connection slots',
                      'QueuePool limit'):
        assert exhausted not in log
    # NOTE: 2 processes x (handlers + heartbeat + relay); the test's own
    # connections (the sampler's, the drain check's) are not counted.
    concurrency = fixtures.make_conf().scheduler.concurrency
    assert max(peak) <= 2 * (concurrency + 2)
    _assert_exactly_once(deployment, casts)
