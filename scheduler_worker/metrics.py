"""Prometheus metrics of the casts, the DB pool and the outbox, one endpoint.

Worker processes record samples; with [metrics] enabled, each writes them to
files in a directory the master created (prometheus_client's multiprocess
mode), and the master alone serves their sum over HTTP on
[metrics] bind_host:port. Disabled, samples stay in memory, unread.
"""

from collections.abc import Iterator
import contextlib
import functools
import logging
import os
import re
import shutil
import tempfile
import time

from oslo_config import cfg
import prometheus_client
from prometheus_client import multiprocess
from prometheus_client import values as prometheus_values

LOG = logging.getLogger(__name__)

_NAMESPACE = 'scheduler_worker'
_LIVE_FILE = re.compile(r'^gauge_live\w+?_(\d+)\.db$')


class _Metrics:
    """The metrics themselves; created in the process that records them."""

    def __init__(self) -> None:
        # NOTE: registry=None: in multiprocess mode the master reads the
        # files, and in-process tests may create this more than once.
        def counter(name, text):
            return prometheus_client.Counter(
                name, text, ['method'], namespace=_NAMESPACE, registry=None)

        def gauge(name, text, mode):
            return prometheus_client.Gauge(
                name, text, namespace=_NAMESPACE, registry=None,
                multiprocess_mode=mode)

        self.received = counter(
            'casts_received', 'Messages taken from the queue for handling, '
            'by RPC method ("unknown" for methods the worker lacks).')
        self.succeeded = counter(
            'casts_succeeded', 'Messages handled and acknowledged without '
            'error, by RPC method.')
        self.failed = counter(
            'casts_failed', 'Messages whose handling failed, by RPC '
            'method: refused (volume in error), rejected as poison, or '
            'requeued after an error.')
        self.redelivered = counter(
            'casts_redelivered', 'Messages RabbitMQ delivered again (AMQP '
            'redelivered flag), by RPC method.')
        self.duration = prometheus_client.Histogram(
            'cast_duration_seconds', 'Time spent handling one message, '
            'from dispatch to the outcome being committed, by RPC method.',
            ['method'], namespace=_NAMESPACE, registry=None)
        # NOTE: live*: a process that died no longer counts.
        self.in_flight = gauge(
            'casts_in_flight', 'Messages being handled right now.',
            'livesum')
        self.pool_checked_out = gauge(
            'db_pool_checked_out', 'Database connections checked out of '
            'the pools of the worker processes (sampled).', 'livesum')
        self.outbox_failures = prometheus_client.Counter(
            'outbox_publish_failures', 'Outbox messages whose publish '
            'failed (refused by RabbitMQ, not confirmed in time, or the '
            'broker unreachable), by kind; each failed attempt counts.',
            ['kind'], namespace=_NAMESPACE, registry=None)
        self.outbox_dropped = prometheus_client.Counter(
            'outbox_dropped', 'Outbox messages given up after [scheduler] '
            'outbox_max_attempts failed attempts, logged at ERROR and '
            'deleted, by kind.', ['kind'], namespace=_NAMESPACE,
            registry=None)
        # NOTE: every process samples the same table; the newest sample
        # is the answer, not their sum.
        self.outbox_pending = prometheus_client.Gauge(
            'outbox_pending', 'Messages committed but not yet confirmed by '
            'RabbitMQ (outbox rows), by kind; sampled by the relay.',
            ['kind'], namespace=_NAMESPACE, registry=None,
            multiprocess_mode='livemostrecent')
        self.outbox_oldest = prometheus_client.Gauge(
            'outbox_oldest_pending_seconds', 'Age of the oldest message '
            'waiting in the outbox (0 when none), by kind; sampled by the '
            'relay.', ['kind'], namespace=_NAMESPACE, registry=None,
            multiprocess_mode='livemostrecent')


@functools.cache
def _metrics() -> _Metrics:
    return _Metrics()


class Handling:
    """What became of one message; set ``outcome`` before leaving."""

    def __init__(self) -> None:
        self.outcome = None


@contextlib.contextmanager
def handling(method: str, redelivered: bool) -> Iterator[Handling]:
    """Count one message from the start of its handling to its outcome.

    ``outcome`` 'ack' counts as succeeded; anything else (or an
    exception) as failed.
    """
    metrics = _metrics()
    metrics.received.labels(method).inc()
    if redelivered:
        metrics.redelivered.labels(method).inc()
    metrics.in_flight.inc()
    record = Handling()
    start = time.monotonic()
    try:
        yield record
    finally:
        metrics.duration.labels(method).observe(time.monotonic() - start)
        metrics.in_flight.dec()
        if record.outcome == 'ack':
            metrics.succeeded.labels(method).inc()
        else:
            metrics.failed.labels(method).inc()


def sample(pool_checked_out: int) -> None:
    """Record the values only a look at the process gives."""
    _metrics().pool_checked_out.set(pool_checked_out)


def sample_outbox(pending: dict[str, tuple[int, float]]) -> None:
    """Record {kind: (rows pending, age in seconds of the oldest)}."""
    metrics = _metrics()
    for kind, (count, oldest) in pending.items():
        metrics.outbox_pending.labels(kind).set(count)
        metrics.outbox_oldest.labels(kind).set(oldest)


def outbox_failed(kind: str, count: int) -> None:
    """Count messages of one kind whose publish attempt failed."""
    _metrics().outbox_failures.labels(kind).inc(count)


def outbox_dropped(kind: str) -> None:
    """Count a message given up."""
    _metrics().outbox_dropped.labels(kind).inc()


def _forget_dead_processes(path: str) -> None:
    """Drop the live gauges of worker processes that are gone."""
    for name in os.listdir(path):
        match = _LIVE_FILE.match(name)
        if not match:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)
        except PermissionError:
            pass


class _Collector(multiprocess.MultiProcessCollector):
    """The children's files, summed, without the gauges of dead ones."""

    def collect(self):
        _forget_dead_processes(self._path)
        return super().collect()


class Exporter:
    """The master's part: the shared directory and the HTTP endpoint."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._host = conf.metrics.bind_host
        self._port = conf.metrics.port
        self.path = None
        self._server = None

    def start(self) -> None:
        """Call in the master, before the launcher forks the workers."""
        self.path = tempfile.mkdtemp(prefix='scheduler-worker-metrics-')
        os.environ['PROMETHEUS_MULTIPROC_DIR'] = self.path
        # NOTE: prometheus_client picks where values go when it is first
        # imported, which may have been before the variable was set.
        prometheus_values.ValueClass = prometheus_values.get_value_class()
        registry = prometheus_client.CollectorRegistry()
        _Collector(registry, path=self.path)
        self._server, _ = prometheus_client.start_http_server(
            self._port, addr=self._host, registry=registry)
        # NOTE: forked workers would inherit the listening socket and keep
        # the port bound after the master is gone.
        os.register_at_fork(after_in_child=self._server.socket.close)
        LOG.info('Serving metrics on http://%s:%d/metrics', self._host,
                 self._server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            os.environ.pop('PROMETHEUS_MULTIPROC_DIR', None)
            prometheus_values.ValueClass = prometheus_values.get_value_class()
            self.path = None
