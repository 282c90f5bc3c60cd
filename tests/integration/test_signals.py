"""Signals to a two-process worker: SIGTERM drains, SIGHUP reloads."""

import signal
import threading
import time

from tests import fixtures

DRAIN_CASTS = 3000


def test_sigterm_drains_every_worker_and_loses_nothing(deployment):
    deployed = deployment()
    config = deployed.config(workers=2)
    declare = deployed.worker(config)
    declare.wait_consuming(count=2)
    assert declare.terminate() == 0
    deployed.publish(fixtures.plain_casts(DRAIN_CASTS, 'drain'))

    worker = deployed.worker(config)
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
        'SELECT count(*) FROM notification_outbox')[0][0] == 0

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
