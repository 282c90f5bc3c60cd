"""One measured setup: vhost, database, config, worker; torn down as one."""

import json
import os
import time

from benchmarks import broker
from benchmarks import services
from benchmarks import workerconf
from benchmarks import workerproc
from benchmarks.lean.process import LeanProcesses
from benchmarks.progress import BenchFailure
from benchmarks.progress import say
from benchmarks.progress import ServiceLost

# NOTE: our own queues on the notification routing keys: the worker's
# notifier declares and fills notifications.info itself; we count on ours.
INFO_COUNTER = 'bench-count-notifications.info'
ERROR_COUNTER = 'bench-count-notifications.error'


class Stage:
    """A vhost, a synced database and a config file for one variant.

    A stage may borrow the vhost of another (``beside``): it then drains
    a queue of its own there (``queue``, bound to the other's topic, so
    that one preload fills both) into a database of its own, and leaves
    the vhost to its owner.
    """

    def __init__(self, run_id: str, tag: str, variant: workerconf.Variant,
                 work_dir: str, beside: 'Stage | None' = None,
                 queue: str | None = None) -> None:
        self.tag = tag
        self.variant = variant
        self.topic = beside.topic if beside else 'sw-bench-%s-%s' % (
            run_id, tag)
        self.queue = queue or self.topic
        self.vhost = self.database = self.admin = self.worker = None
        self._owns_vhost = beside is None
        self.notifications = {'info': 0, 'error': 0}
        self.samples: dict[str, dict] = {}
        self._notifier_queues: list[str] = []
        self._notifier_queues_checked = 0.0
        self.log_file = os.path.join(work_dir, '%s.log' % tag)
        self.config_file = os.path.join(work_dir, '%s.conf' % tag)
        try:
            self._create(run_id, beside)
        except BaseException:
            self.close()
            raise

    def _create(self, run_id: str, beside: 'Stage | None') -> None:
        self.vhost = beside.vhost if beside else services.Vhost(
            'sw-bench-%s-%s' % (run_id, self.tag))
        self.database = services.Database('sw_bench_%s_%s' % (
            run_id, self.tag.replace('-', '_')))
        with open(self.config_file, 'w') as config:
            config.write(workerconf.render(workerconf.sections(
                self.vhost.transport_url, self.database.url, self.topic,
                'bench-%s' % self.tag, self.log_file, self.variant)))
        workerproc.db_sync(self.config_file)
        workerproc.register_pool(self.config_file)
        self.admin = broker.Admin(self.vhost.amqp_url)

    # The worker, or the lean reference in its place

    def start_worker(self) -> workerproc.WorkerProcess:
        """The real worker, whatever the variant measures."""
        self.worker = workerproc.WorkerProcess(self.config_file,
                                               self.log_file,
                                               self.variant.source)
        self.worker.start()
        return self.worker

    def start_consumer(self) -> workerproc.WorkerProcess | LeanProcesses:
        """What this stage measures: the worker, or the lean reference."""
        if not self.variant.lean:
            return self.start_worker()
        self.worker = LeanProcesses(
            self.variant.workers, self.vhost.amqp_url, self.queue,
            self.database.dsn, 'bench-%s' % self.tag, self.log_file)
        self.worker.start()
        return self.worker

    @property
    def what(self) -> str:
        return '%s (%s)' % ('the lean reference' if isinstance(
            self.worker, LeanProcesses) else 'the worker', self.tag)

    def check_worker(self) -> None:
        """Fail the phase, with the consumer's last words, if it died."""
        if self.worker is not None and not self.worker.alive():
            lost = (isinstance(self.worker, LeanProcesses)
                    and self.worker.service_lost)
            raise (ServiceLost if lost else BenchFailure)(
                '%s exited with code %s\n%s' % (
                    self.what, self.worker.returncode,
                    self.worker.log_tail()))

    def wait_consuming(self, consumers: int, timeout: float = 90,
                       queue: str | None = None) -> float:
        """Wait until the queue has its consumers; return when."""
        queue = queue or self.queue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_worker()
            stats = self.admin.stats(queue)
            if stats is not None and stats[1] >= consumers:
                return time.monotonic()
            time.sleep(0.05)
        raise BenchFailure('%s did not consume queue %s within %.0f s\n%s'
                           % (self.what, queue, timeout,
                              self.worker.log_tail()))

    def stop_worker(self) -> dict:
        what = self.what
        worker, self.worker = self.worker, None
        if worker is None:
            return {}
        code = worker.stop()
        if code != 0:
            say('WARNING: %s exited with code %s on SIGTERM' % (what, code))
        return {'exit_code': code, 'stop_seconds': worker.stop_seconds}

    def declare_queues(self) -> None:
        """Let the real worker declare its exchange and queues, then stop it.

        Preloaded casts must land in the queue exactly as the worker
        declares it, whatever options it runs with.
        """
        self.start_worker()
        self.wait_consuming(self.variant.workers, queue=self.topic)
        self.stop_worker()
        self.bind_counters()

    def bind_counters(self) -> None:
        """Our queues on the notification keys (the exchange must exist)."""
        for name, key in ((INFO_COUNTER, broker.NOTIFICATIONS_INFO),
                          (ERROR_COUNTER, broker.NOTIFICATIONS_ERROR)):
            self.admin.declare(name, key)

    # Notifications

    def count_notifications(self) -> dict[str, int]:
        """End and error notifications published so far (counted by purge)."""
        for kind, queue in (('info', INFO_COUNTER),
                            ('error', ERROR_COUNTER)):
            if kind not in self.samples:
                message = self.admin.get_one(queue)
                if message is not None:
                    self.samples[kind] = _describe(message.body)
                    self.notifications[kind] += 1
            self.notifications[kind] += self.admin.purge(queue)
        self._purge_notifier_queues()
        return dict(self.notifications)

    def _purge_notifier_queues(self) -> None:
        # NOTE: nobody consumes the queues the notifier declares; left
        # alone, 100,000 notifications would sit in RabbitMQ's memory.
        now = time.monotonic()
        if len(self._notifier_queues) < 2 and (
                now - self._notifier_queues_checked > 5):
            self._notifier_queues_checked = now
            self._notifier_queues = [
                name for name in (broker.NOTIFICATIONS_INFO,
                                  broker.NOTIFICATIONS_ERROR)
                if self.admin.stats(name) is not None]
        for name in self._notifier_queues:
            self.admin.purge(name)

    def close(self) -> None:
        """Stop the worker, then drop the database and the vhost."""
        try:
            self.stop_worker()
        finally:
            if self.admin is not None:
                try:
                    self.admin.close()
                except Exception:
                    # NOTE: the vhost goes anyway, its connections too.
                    pass
            if self.database is not None:
                self.database.drop()
            if self.vhost is not None and self._owns_vhost:
                self.vhost.delete()
            self.vhost = self.database = self.admin = None


def _describe(body: bytes | str) -> dict:
    """What one notification says, for the report (not its whole payload)."""
    try:
        message = json.loads(json.loads(body)['oslo.message'])
    except (ValueError, KeyError, TypeError) as exc:
        return {'unparsable': str(exc)}
    payload = message.get('payload') or {}
    return {'event_type': message.get('event_type'),
            'priority': message.get('priority'),
            'publisher_id': message.get('publisher_id'),
            'payload_keys': sorted(payload),
            'reason': payload.get('reason')}
