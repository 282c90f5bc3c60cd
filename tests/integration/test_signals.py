"""Signals to a two-process worker: SIGTERM drains, SIGHUP reloads, and
Ctrl-C in a terminal stops it as SIGTERM does."""

import os
import signal
import threading
import time

import sqlalchemy as sa

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GRACEFUL = 'Caught SIGTERM signal, graceful exiting of master process'

DRAIN_CASTS = 3000


def test_sigterm_drains_every_worker_and_loses_nothing(deployment):
    deployed = deployment()
    config = deployed.config(workers=2)
    declare = deployed.worker(config)
    declare.wait_consuming(count=2)
    assert declare.terminate() == 0
    deployed.publish(fixtures.plain_casts(DRAIN_CASTS, 'drain'))

    worker = deployed.worker(config)
    # NOTE: both processes consuming, or SIGTERM may find one not started.
    worker.wait_consuming(count=2)
    fixtures.wait_until(lambda: deployed.volume_count() >= 100, timeout=120,
                        what='the workers to be busy')
    assert worker.terminate() == 0
    assert worker.log().count('Stopping: no new casts') == 2
    # NOTE: each cast is either done (stored, acknowledged) or untouched
    # (back in the queue): none is both, none is neither.
    stored, waiting = deployed.volume_count(), deployed.queue_depth()
    assert stored + waiting == DRAIN_CASTS
    assert waiting > 0, 'drained before SIGTERM: nothing tested'
    assert deployed.rows(
        'SELECT count(*) FROM scheduler_worker_outbox')[0][0] == 0

    rest = deployed.worker(config)
    fixtures.wait_until(lambda: deployed.volume_count() == DRAIN_CASTS,
                        timeout=300, what='the rest to be handled')
    assert rest.terminate() == 0
    assert deployed.queue_depth() == 0
    assert deployed.rows("SELECT count(*) FROM volumes WHERE status = "
                         "'creating' AND host <> ''")[0][0] == DRAIN_CASTS


class Publisher:
    """Publishes a cast every few milliseconds until stopped."""

    def __init__(self, deployed: fixtures.Deployment) -> None:
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=deployed.publish, args=(self._casts(),), daemon=True)
        self._thread.start()

    def _casts(self):
        while not self._stop.is_set():
            [body] = fixtures.plain_casts(1, 'hup-%05d' % self.published)
            yield body
            self.published += 1
            # NOTE: the scenario: a steady trickle across the reloads.
            time.sleep(0.01)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(30)
        return self.published


def _reload(deployed, worker, consuming: int, **options) -> int:
    """Rewrite the config, SIGHUP the master; the log offset once reloaded."""
    deployed.config(workers=2, **options)
    worker.process.send_signal(signal.SIGHUP)
    worker.wait_consuming(count=consuming)
    return len(worker.log())


def test_sighup_toggles_debug_and_every_cast_is_persisted(deployment):
    deployed = deployment()
    worker = deployed.worker(deployed.config(workers=2, debug=False))
    worker.wait_consuming(count=2)
    master = worker.process.pid
    publisher = Publisher(deployed)
    try:
        fixtures.wait_until(lambda: deployed.volume_count() >= 20,
                            what='casts before the reload')
        assert ' DEBUG ' not in worker.log()

        start = _reload(deployed, worker, 4, debug=True)
        fixtures.wait_until(
            lambda: 'create_volume cast received' in worker.log()[start:],
            what='DEBUG lines after the reload')

        start = _reload(deployed, worker, 6, debug=False)
        before = deployed.volume_count()
        fixtures.wait_until(lambda: deployed.volume_count() >= before + 20,
                            what='casts after the second reload')
        assert ' DEBUG ' not in worker.log()[start:]
    finally:
        published = publisher.stop()
    fixtures.wait_until(lambda: deployed.volume_count() == published,
                        timeout=120, what='every published cast')
    assert worker.process.pid == master and worker.process.poll() is None
    assert worker.terminate() == 0
    assert deployed.queue_depth() == 0
    assert deployed.rows("SELECT count(*) FROM volumes WHERE status = "
                         "'creating'")[0][0] == published


def _waiting_on_a_lock(deployed) -> bool:
    return deployed.rows(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND relation = 'volumes'::regclass")[0][0] > 0


def _consuming(terminal, processes: int) -> set:
    """The process tree, once both workers consume."""
    terminal.wait_for(' consuming topic ', count=2)
    tree = terminal.process_tree()
    assert len(tree) == processes, tree
    return tree


def _exited_as_on_sigterm(terminal, tree) -> None:
    assert terminal.wait() == 0, terminal.output()[-4000:]
    assert fixtures.still_running(tree) == set()
    assert GRACEFUL in terminal.output()
    assert 'instantaneous' not in terminal.output()


def test_ctrl_c_in_a_terminal_finishes_the_cast_in_flight_and_exits_0(
        deployment):
    deployed = deployment()
    with fixtures.Terminal([fixtures.console_script('scheduler-worker'),
                            '--config-file',
                            deployed.config(workers=2)]) as terminal:
        tree = _consuming(terminal, 3)  # the master and two workers
        with deployed.engine.connect() as locker:
            # NOTE: the cast's transaction waits on this lock: in flight,
            # delivered and not acknowledged, until the lock goes.
            locker.execute(sa.text(
                'LOCK TABLE volumes IN ACCESS EXCLUSIVE MODE'))
            deployed.publish(fixtures.plain_casts(1, 'ctrl-c'))
            fixtures.wait_until(lambda: _waiting_on_a_lock(deployed),
                                what='the cast to wait on the lock')
            terminal.interrupt()
            terminal.wait_for('Stopping: no new casts', count=2)
            assert terminal.returncode is None and \
                fixtures.still_running(tree) == tree
            locker.rollback()
        _exited_as_on_sigterm(terminal, tree)
    assert deployed.volume_count() == 1
    assert deployed.queue_depth() == 0, 'the cast was not acknowledged'


def test_make_run_returns_to_the_prompt_on_ctrl_c(tmp_path, rabbit_vhost):
    state = tmp_path / 'state'
    state.mkdir()
    fixtures.write_config(state / 'scheduler-worker.conf', {
        'DEFAULT': {'transport_url': rabbit_vhost.transport_url,
                    'state_path': state, 'workers': 2},
        'scheduler': {'topic': fixtures.unique_name('sw-make-run')}})
    venv = os.path.dirname(fixtures.BIN_DIR)
    # NOTE: -o: the venv is the one running these tests; never reinstall.
    with fixtures.Terminal([
            '/usr/bin/env', 'make', '--no-print-directory', 'VENV=' + venv,
            'STATE=%s' % state, '-o', os.path.join(
                venv, 'bin', 'scheduler-worker'), 'run'],
            cwd=ROOT) as terminal:
        tree = _consuming(terminal, 4)  # make, the master, two workers
        terminal.interrupt()
        _exited_as_on_sigterm(terminal, tree)
