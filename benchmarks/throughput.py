"""End to end: a preloaded queue drained, committed, notified.

By the worker, or by the lean reference in its place (the stage says).
"""

from collections.abc import Callable
import os
import time

from benchmarks import workerproc
from benchmarks.progress import BenchFailure
from benchmarks.progress import Progress
from benchmarks.stage import Stage


def _consumption_start(stage: Stage, total: int,
                       timeout: float = 90) -> float:
    """The moment a consumer attached (or the queue started to shrink)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stage.check_worker()
        stats = stage.admin.stats(stage.queue)
        if stats is not None and (stats[1] >= 1 or stats[0] < total):
            return time.monotonic()
        time.sleep(0.02)
    raise BenchFailure('%s did not start consuming within %.0f s\n%s' % (
        stage.what, timeout, stage.worker.log_tail()))


def measure(stage: Stage, total: int, stall: float, poll: float = 0.2,
            attach: Callable | None = None) -> dict:
    """Start the consumer on the preloaded queue and time the whole drain.

    Done means ``total`` rows in ``volumes`` and ``total`` notifications
    (end, or error for refused casts) published on the broker.
    ``attach(worker)`` is called once the worker consumes (a profiler).
    """
    activity_before = stage.database.activity()
    statements_before = stage.database.statements
    load_average = os.getloadavg()
    launched = time.monotonic()
    worker = stage.start_consumer()
    started = _consumption_start(stage, total)
    cpu_before, busy_before = worker.cpu(), workerproc.machine_busy()
    if attach is not None:
        attach(worker)
    progress = Progress('drain %s' % stage.tag, total, stall=stall,
                        check=stage.check_worker)
    rows_done, notes_done, notes, timeline = _wait_done(
        stage, total, started, progress, poll)
    finished = max(rows_done, notes_done)
    seconds = finished - started
    cpu, busy = worker.cpu(), workerproc.machine_busy()
    cpu_seconds = sum(cpu.values()) - sum(cpu_before.values())
    amqp_connections = stage.vhost.connections()
    result = {'casts': total, 'seconds': seconds,
              'casts_per_s': total / seconds, 'processes': len(
                  worker.workers()),
              'cpu_seconds': cpu_seconds,
              'cpu_ms_per_cast': 1000.0 * cpu_seconds / total,
              'worker_cpu_pct': 100.0 * (cpu['workers_s']
                                         - cpu_before['workers_s']) / seconds,
              'master_cpu_pct': 100.0 * (cpu['master_s']
                                         - cpu_before['master_s']) / seconds,
              'machine_busy_pct': 100.0 * (busy[0] - busy_before[0])
              / max(busy[1] - busy_before[1], 1),
              'load_average_at_start': load_average,
              'startup_seconds': started - launched,
              'rows_done_seconds': rows_done - started,
              'notifications_done_seconds': notes_done - started,
              'end_notifications': notes['info'],
              'error_notifications': notes['error'],
              'notification_sample': dict(stage.samples),
              'amqp_connections_at_end': amqp_connections,
              'timeline': timeline}
    result.update(stage.stop_worker())
    result['database_per_cast'] = _per_cast(
        activity_before, stage.database.activity(),
        stage.database.statements - statements_before, total)
    return result


def _wait_done(stage: Stage, total: int, started: float,
               progress: Progress, poll: float) -> tuple:
    """Poll until ``total`` rows and notifications; when each was reached.

    Returns (rows done, notifications done, the notification counts, a
    timeline of (seconds, rows, notifications) about every second, and at
    the end).
    """
    rows_done = notes_done = None
    timeline = []
    while True:
        rows = stage.database.volume_count()
        notes = stage.count_notifications()
        now = time.monotonic()
        if rows >= total and rows_done is None:
            rows_done = now
        if notes['info'] + notes['error'] >= total and notes_done is None:
            notes_done = now
        if not timeline or now - timeline[-1][0] - started >= 1:
            timeline.append((now - started, rows, notes['info']))
        if rows_done and notes_done:
            timeline.append((max(rows_done, notes_done) - started, rows,
                             notes['info']))
            return rows_done, notes_done, notes, timeline
        progress.update(rows, 'notified %d, errors %d' % (
            notes['info'], notes['error']),
            marker=(rows, notes['info'], notes['error']))
        time.sleep(poll)


def _per_cast(before: dict, after: dict, own_statements: int,
              total: int) -> dict[str, float]:
    """What the worker asked of PostgreSQL, per cast, ours taken out.

    Our own polling runs one statement per transaction in one session;
    the worker's startup and heartbeats add a handful of commits.
    """
    delta = {key: after[key] - before[key] for key in before}
    delta['commits'] -= own_statements
    return {key: value / total for key, value in delta.items()}
