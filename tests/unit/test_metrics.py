"""Metrics: worker processes record, the master's endpoint sums them."""

import os
import subprocess
import sys

import pytest

from scheduler_worker import metrics
from tests import fixtures

# NOTE: a worker process in miniature: records what handling casts would.
_WORKER = '''
import sys
from scheduler_worker import metrics
for outcome in sys.argv[1].split(','):
    with metrics.handling('create_volume', outcome == 'requeue') as h:
        h.outcome = outcome
metrics.sample(pool_checked_out=3)
metrics.sample_outbox({'notification': (int(sys.argv[2]), 4.5)})
metrics.outbox_failed('notification', int(sys.argv[2]))
metrics.outbox_dropped('notification')
'''


@pytest.fixture
def exporter():
    port = fixtures.free_port()
    conf = fixtures.make_conf(metrics__bind_host='127.0.0.1',
                              metrics__port=port)
    exporter = metrics.Exporter(conf)
    exporter.start()
    exporter.port = port
    yield exporter
    exporter.stop()


def _worker(outcomes: str, pending: int) -> None:
    subprocess.run([sys.executable, '-c', _WORKER, outcomes, str(pending)],
                   check=True, env=dict(os.environ), timeout=60)


def test_endpoint_sums_the_processes_and_forgets_dead_ones_gauges(exporter):
    _worker('ack,ack,refused', pending=7)
    _worker('ack,requeue', pending=5)
    samples = fixtures.scrape_metrics(exporter.port)
    method = (('method', 'create_volume'),)

    def value(name, labels=method):
        return samples.get(('scheduler_worker_' + name, labels))
    assert value('casts_received_total') == 5
    assert value('casts_succeeded_total') == 3
    assert value('casts_failed_total') == 2
    assert value('casts_redelivered_total') == 1
    assert value('cast_duration_seconds_count') == 5
    kind = (('kind', 'notification'),)
    assert value('outbox_publish_failures_total', kind) == 12
    assert value('outbox_dropped_total', kind) == 2
    # NOTE: both processes exited: their in-flight and pool gauges are
    # no longer counted, and nothing says how many messages wait.
    assert value('casts_in_flight', ()) in (None, 0)
    assert value('db_pool_checked_out', ()) in (None, 0)
    assert value('outbox_pending', kind) is None
    assert value('outbox_oldest_pending_seconds', kind) is None


def test_stop_removes_the_directory(exporter):
    path = exporter.path
    assert os.environ['PROMETHEUS_MULTIPROC_DIR'] == path
    exporter.stop()
    assert not os.path.exists(path)
    assert 'PROMETHEUS_MULTIPROC_DIR' not in os.environ
