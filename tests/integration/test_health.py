"""Health as operators check it: service list, status, the RPC ping."""

import subprocess

import oslo_messaging
import pytest

from tests import fixtures


def _status(config: str) -> tuple[int, str]:
    result = subprocess.run(
        [fixtures.console_script('scheduler-worker-status'), '--config-file',
         config, 'upgrade', 'check'], capture_output=True, text=True,
        timeout=120)
    return result.returncode, result.stdout + result.stderr


def _result_of(output: str, check: str) -> str:
    """'Success', 'Warning' or 'Failure' of one check in the table."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if 'Check: %s' % check in line:
            return lines[i + 1].split('Result:')[1].split('|')[0].strip()
    raise AssertionError('no check %r in:\n%s' % (check, output))


def _state(config: str, host: str) -> str | None:
    """up or down, as scheduler-worker-manage service list shows host."""
    for line in fixtures.manage(config, 'service', 'list').splitlines():
        fields = line.split()
        if fields[:2] == ['scheduler-worker', host]:
            return fields[2]
    return None


def test_service_list_and_status_show_a_worker_up_then_down(deployment):
    deployed = deployment()
    config = deployed.config(report_interval=1, service_down_time=3)
    assert _status(config)[0] == 2, 'no worker ever ran: not fit'
    worker = deployed.worker(config)
    worker.wait_consuming()
    fixtures.wait_until(lambda: _state(config, deployed.host) == 'up',
                        what='the worker to show up')
    code, output = _status(config)
    assert code == 0, output
    assert 'Up: %s.' % deployed.host in output

    assert worker.terminate() == 0
    fixtures.wait_until(lambda: _state(config, deployed.host) == 'down',
                        timeout=30, what='the worker to show down')
    code, output = _status(config)
    assert code == 2, output
    assert _result_of(output, 'Workers up') == 'Failure'
    assert _result_of(output, 'Database schema') == 'Success'
    assert _result_of(output, 'RabbitMQ') == 'Success'


def test_status_fails_when_schema_is_behind_or_broker_unreachable(
        deployment):
    deployed = deployment()
    config = deployed.config(report_interval=1)
    worker = deployed.worker(config)
    worker.wait_consuming()
    fixtures.wait_until(lambda: _status(config)[0] == 0,
                        what='status to pass with the worker up')

    # NOTE: what the database says when this code is newer than the
    # schema (the upgrade's "db sync" not run yet).
    [(head,)] = deployed.rows('SELECT version_num FROM alembic_version')
    with deployed.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE alembic_version SET version_num = '0001'")
    code, output = _status(config)
    assert code == 2, output
    assert _result_of(output, 'Database schema') == 'Failure'
    assert 'db sync' in output
    assert _result_of(output, 'Workers up') == 'Success'
    with deployed.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE alembic_version SET version_num = '%s'" % head)

    closed_port = deployed.config(
        'closed-broker.conf',
        transport_url='rabbit://guest:guest@127.0.0.1:1/')
    code, output = _status(closed_port)
    assert code == 2, output
    assert _result_of(output, 'RabbitMQ') == 'Failure'
    assert _result_of(output, 'Database schema') == 'Success'
    assert worker.terminate() == 0


@pytest.fixture
def rpc_client(rabbit_vhost):
    conf = fixtures.make_conf(transport_url=rabbit_vhost.transport_url)
    transport = oslo_messaging.get_rpc_transport(conf)

    def client(topic: str) -> oslo_messaging.RPCClient:
        return oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic), timeout=30)
    yield client
    transport.cleanup()


def test_rpc_ping_is_answered_and_a_bad_call_gets_its_error(
        deployment, rpc_client):
    deployed = deployment()
    worker = deployed.worker(deployed.config(rpc_ping_enabled=True))
    worker.wait_consuming()
    client = rpc_client(deployed.topic)
    assert client.call({}, 'oslo_rpc_server_ping') == 'pong'
    # NOTE: a call the worker cannot dispatch gets its failure back
    # at once, not a timeout.
    with pytest.raises(oslo_messaging.RemoteError) as raised:
        client.call({}, 'no_such_method')
    assert raised.value.exc_type == 'NoSuchMethod'
    assert 'no_such_method' in str(raised.value)
    assert worker.terminate() == 0
