"""A stock Cinder 29 cloud of real processes on this machine's services.

One lab per test module: a PostgreSQL database and a RabbitMQ vhost of its
own, one cinder.conf, and cinder-api (noauth), cinder-volume (three lab
backends), cinder-backup (POSIX) plus the scheduler slot: cinder-scheduler
or any command that stands in for it. cinder.conf is the same whatever
runs in the slot.
"""

import dataclasses
import os
import subprocess
import time
import typing

import sqlalchemy as sa

from tests import fixtures
from tests.interop import cinderconf
from tests.interop import cinderdb
from tests.interop import processes
from tests.interop import rest
from tests.interop import wiretap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DRIVERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'cinder_drivers')
DEFAULT_TYPE_SPECS = {'volume_backend_name': 'lab'}
RESCHEDULE_TYPE = 'lab-reschedule'
RESCHEDULE_TYPE_SPECS = {'lab_reschedule_pair': '<is> True'}


def cinder_venv() -> str:
    """Cinder's venv (``make cinder-venv``); unavailable when missing."""
    venv = os.environ.get('SW_CINDER_VENV') or os.path.join(
        ROOT, '.cinder-venv')
    if not os.path.exists(os.path.join(venv, '.installed')):
        fixtures.unavailable('Cinder 29 in %s (make cinder-venv)' % venv)
    return venv


@dataclasses.dataclass(frozen=True)
class SchedulerSlot:
    """What runs where cinder-scheduler would.

    ``command(lab)`` is its argv; ``env(lab)`` what it needs beyond the
    lab's environment; ``prepare(lab)`` runs once, after Cinder's schema
    exists and before the first start (a config file, a schema step).
    ``loses_no_cast`` says the burst with kill -9 must end with every
    volume available (asserted), rather than reported.
    """

    name: str
    command: typing.Callable[['CinderLab'], list[str]]
    env: typing.Callable[['CinderLab'], dict[str, str]] = lambda lab: {}
    loses_no_cast: bool = False
    prepare: typing.Callable[['CinderLab'], None] = lambda lab: None


CINDER_SCHEDULER = SchedulerSlot(
    'cinder-scheduler',
    lambda lab: [lab.bin('cinder-scheduler'), '--config-file',
                 lab.cinder_conf])


def worker_conf_path(lab: 'CinderLab') -> str:
    return str(lab.tmp_path / 'scheduler-worker.conf')


def write_worker_conf(lab: 'CinderLab') -> str:
    """What a Cinder operator writes for our worker, and nothing else but
    the heartbeat knobs.

    The four settings of the README's "Running in a Cinder cloud" plus
    ``host`` (the services row and the server queue, as cinder.conf's
    ``host`` names Cinder's scheduler). cinder.conf is not read.
    """
    return fixtures.write_config(worker_conf_path(lab), {
        'DEFAULT': {
            'transport_url': lab.vhost.transport_url,
            'host': cinderconf.HOST,
            # NOTE: the heartbeat Cinder's scheduler gets from the lab's
            # cinder.conf (report_interval 2, service_down_time 20). With
            # our default of 10 s, two late beats under load (seen up to
            # 8.5 s late) would list the scheduler down while it runs.
            'report_interval': cinderconf.REPORT_INTERVAL,
            # NOTE: and cinder.conf's service_down_time, by which Cinder's
            # scheduler tells dead services for POST /workers/cleanup.
            'service_down_time': cinderconf.SERVICE_DOWN_TIME},
        'scheduler': {'topic': 'cinder-scheduler'},
        'database': {'backend': 'cinder', 'connection': lab.db_url}})


def prepare_worker(lab: 'CinderLab') -> None:
    """The operator's steps: the config file, then ``db sync`` (our tables
    beside Cinder's)."""
    result = subprocess.run(
        [fixtures.console_script('scheduler-worker-manage'),
         '--config-file', write_worker_conf(lab), 'db', 'sync'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, 'db sync: %s%s' % (result.stdout,
                                                      result.stderr)


SCHEDULER_WORKER = SchedulerSlot(
    'scheduler-worker',
    lambda lab: [fixtures.console_script('scheduler-worker'),
                 '--config-file', worker_conf_path(lab)],
    # NOTE: our venv's interpreter, not the lab drivers' path: the worker
    # imports nothing of Cinder.
    env=lambda lab: {'PYTHONPATH': ''},
    loses_no_cast=True,
    prepare=prepare_worker)


class CinderLab:
    """The deployment: start() it, drive it through ``client``, close()."""

    def __init__(self, tmp_path, scheduler: SchedulerSlot) -> None:
        self.venv = cinder_venv()
        self.tmp_path = tmp_path
        self.scheduler_slot = scheduler
        self.vhost = fixtures.RabbitVhost()
        try:
            self.db_url = fixtures.create_database('postgresql', tmp_path)
        except BaseException:
            # NOTE: skipped or failed (no PostgreSQL): leave no vhost.
            self.vhost.delete()
            raise
        self.db = cinderdb.CinderDB(self.db_url)
        self.port = fixtures.free_port()
        self.endpoint = 'http://127.0.0.1:%d' % self.port
        self.client = rest.CinderClient(self.endpoint)
        self.cinder_conf = cinderconf.write(
            tmp_path, self.venv, self.port, self.vhost.transport_url,
            self.db_url)
        self.processes: dict[str, processes.LabProcess] = {}
        self.tap: wiretap.WireTap | None = None
        self.scheduler_started = 0.0

    def bin(self, name: str) -> str:
        return os.path.join(self.venv, 'bin', name)

    @property
    def pools(self) -> dict[str, str]:
        """{backend: pool name as the scheduler places volumes}."""
        return {name: '%s@%s#lab' % (cinderconf.HOST, name)
                for name in cinderconf.BACKENDS}

    def environment(self) -> dict[str, str]:
        """The lab's sudo and Cinder's venv first on PATH, the lab drivers
        importable."""
        env = {k: v for k, v in os.environ.items() if k not in (
            'PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
        env['PATH'] = os.pathsep.join((
            str(self.tmp_path / 'bin'), os.path.join(self.venv, 'bin'),
            env.get('PATH', '')))
        env['PYTHONPATH'] = DRIVERS_DIR
        return env

    def _process(self, name: str, argv: list[str],
                 env: dict | None = None) -> processes.LabProcess:
        process = processes.LabProcess(
            name, argv, self.tmp_path / ('%s.log' % name),
            dict(self.environment(), **(env or {})))
        self.processes[name] = process
        return process

    # Lifecycle

    def start(self) -> 'CinderLab':
        """Cinder's services first, then the scheduler slot, all ready."""
        subprocess.run([self.bin('cinder-manage'), '--config-file',
                        self.cinder_conf, 'db', 'sync'], check=True,
                       capture_output=True, env=self.environment(),
                       timeout=600)
        for binary in ('cinder-api', 'cinder-volume', 'cinder-backup'):
            self._process(binary, [self.bin(binary), '--config-file',
                                   self.cinder_conf]).start()
        self.wait_api()
        self.client.unlimited_quotas()
        self._volume_types()
        # NOTE: a scheduler asks the volume and backup services to report
        # when it starts: they must be consuming by then.
        self._wait(lambda: self.service_queues() <= self.consumed_queues(),
                   120, 'volume and backup services to consume')
        # NOTE: a copy of every message from here on: casts and calls
        # to topics and servers, notifications, and the fanouts.
        self.tap = wiretap.WireTap(self.vhost.amqp_url)
        self.tap.bind('openstack', '#')
        for fanout in ('cinder-scheduler', 'cinder-volume', 'cinder-backup'):
            self.tap.bind(fanout + '_fanout', '', kind='fanout')
        self.start_scheduler()
        self.wait_scheduler_ready()
        return self

    def service_queues(self) -> set[str]:
        return {'cinder-volume.%s@%s' % (cinderconf.HOST, name)
                for name in cinderconf.BACKENDS} | {'cinder-backup'}

    def wait_scheduler_ready(self, timeout: float = 120) -> None:
        """Consuming, every service up, backup and volume pools known."""
        self.wait_scheduler_consuming(timeout)
        # NOTE: only reports sent once it consumes reach the scheduler;
        # cinder-backup's come every 60 s, or when a starting scheduler
        # asks for them (fanout publish_service_capabilities).
        since = time.time()
        asked = self.tap.matching('publish_service_capabilities',
                                  since=self.scheduler_started,
                                  exchange='cinder-backup_fanout')
        if asked:
            since = asked[0]['received']
        self.tap.wait_for(timeout, 'update_service_capabilities',
                          since=since, service_name='backup')
        self.wait_services_up(timeout)
        self.wait_pools(timeout)

    def _volume_types(self) -> None:
        default = next(t for t in self.client.volume_types()
                       if t['name'] == '__DEFAULT__')
        self.client.set_type_extra_specs(default['id'], DEFAULT_TYPE_SPECS)
        self.client.create_type(RESCHEDULE_TYPE, RESCHEDULE_TYPE_SPECS)

    def check_running(self) -> None:
        for process in self.processes.values():
            process.check_running()

    def _wait(self, predicate, timeout: float, what: str):
        def checked():
            self.check_running()
            return predicate()
        return fixtures.wait_until(checked, timeout=timeout, interval=0.3,
                                   what=what)

    def wait_api(self, timeout: float = 120) -> None:
        self._wait(self.client.answers, timeout, 'cinder-api to answer')

    def expected_services(self) -> set[tuple[str, str]]:
        host = cinderconf.HOST
        return {('cinder-volume', '%s@%s' % (host, name))
                for name in cinderconf.BACKENDS} | {
            ('cinder-backup', host), ('cinder-scheduler', host)}

    def services_up(self) -> set[tuple[str, str]]:
        return {(s['binary'], s['host']) for s in self.client.services(
            microversion=rest.BEFORE_BACKEND_STATE) if s['state'] == 'up'}

    def wait_services_up(self, timeout: float = 120) -> None:
        self._wait(lambda: self.expected_services() <= self.services_up(),
                   timeout, 'every lab service up in os-services')

    def wait_pools(self, timeout: float = 120) -> list[dict]:
        """The scheduler answers get_pools with every lab pool."""
        def every_pool():
            try:
                pools = self.client.get_pools()
            except rest.HTTPError as exc:
                # NOTE: a scheduler just restarted onto a backlog may fail
                # the call for a while (cinder-scheduler once ran
                # PostgreSQL out of connections so, in the burst test):
                # not yet ready, as long as it comes round in time.
                if exc.status < 500:
                    raise
                return None
            names = {pool['name'] for pool in pools}
            return pools if set(self.pools.values()) <= names else None
        return self._wait(every_pool, timeout,
                          'the scheduler to report every lab pool')

    # The scheduler slot

    @property
    def scheduler(self) -> processes.LabProcess:
        return self.processes['scheduler']

    def start_scheduler(self) -> processes.LabProcess:
        slot = self.scheduler_slot
        if 'scheduler' not in self.processes:
            slot.prepare(self)
            self._process('scheduler', slot.command(self), slot.env(self))
        self.scheduler_started = time.time()
        return self.scheduler.start()

    def wait_scheduler_consuming(self, timeout: float = 120) -> None:
        self._wait(self.scheduler_consuming, timeout,
                   'a consumer on the cinder-scheduler queue')

    def kill_scheduler(self) -> None:
        self.scheduler.kill()

    def consumed_queues(self) -> set[str]:
        """Queues of the lab's vhost that have a consumer."""
        try:
            return set(fixtures.consumer_queues(self.vhost.name))
        except AssertionError:
            # NOTE: rabbitmqctl fails while the broker restarts (a fault
            # test of another run may do that): none known, ask again.
            return set()

    def scheduler_consuming(self) -> bool:
        """A consumer is on the cinder-scheduler topic queue."""
        return 'cinder-scheduler' in self.consumed_queues()

    def close(self) -> None:
        # NOTE: the processes stop, and the database and vhost go, even
        # when closing the tap fails.
        try:
            if self.tap:
                self.tap.close()
        finally:
            for process in reversed(list(self.processes.values())):
                process.stop()
            self.db.close()
            fixtures.drop_database(self.db_url)
            self.vhost.delete()

    def shared_services(self) -> dict[str, object]:
        """What tells a restart of this machine's shared RabbitMQ and
        PostgreSQL (another suite's fault tests do that): the tap's
        reconnections and the database server's start time."""
        started = self.db.rows('SELECT pg_postmaster_start_time() AS t')
        return {'RabbitMQ': self.tap.reconnects,
                'PostgreSQL': started[0]['t']}

    def tails(self, lines: int = 30) -> str:
        return '\n'.join('---- %s (%s)\n%s' % (name, p.log_path,
                                               p.tail(lines))
                         for name, p in self.processes.items())

    def queued_messages(self) -> dict[str, int]:
        """{queue: messages ready or unacknowledged} of the topic, server
        and reply queues of the lab's vhost.

        Left out: notifications (nobody consumes them in the lab) and
        fanout queues (a killed service's stays behind, for
        rabbit_transient_queues_ttl, and fills with reports nobody reads).
        """
        return {name: count for name, count in
                fixtures.queue_messages(self.vhost.name).items()
                if '_fanout_' not in name and
                not name.startswith('notifications.')}

    def queues_idle(self) -> bool:
        """No message waits in a work queue (see queued_messages)."""
        try:
            return not any(self.queued_messages().values())
        except AssertionError:
            # NOTE: rabbitmqctl fails while the broker restarts (a fault
            # test of another run may do that): not idle, ask again.
            return False

    def wait_settled(self, ids, timeout: float = 300, quiet_polls: int = 3,
                     interval: float = 2) -> dict[str, dict]:
        """Cinder rows of ``ids`` once nothing moves any more.

        Settled: no message waits in any queue of the lab and no status
        changed over ``quiet_polls`` polls ``interval`` apart. A volume
        whose cast was lost stays ``creating`` for good: only quiet tells
        it from a slow one.
        """
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        last, quiet = None, 0
        while True:
            self.check_running()
            if time.monotonic() > deadline:
                raise AssertionError('the lab did not settle in %ss' %
                                     timeout)
            try:
                rows = self.db.volumes(wanted)
            except sa.exc.OperationalError:
                # NOTE: the shared PostgreSQL may be full or restarting
                # for a moment (other runs): ask again.
                last, quiet = None, 0
                time.sleep(interval)
                continue
            statuses = {i: row['status'] for i, row in rows.items()}
            idle = self.queues_idle()
            quiet = quiet + 1 if idle and statuses == last else 0
            if quiet >= quiet_polls:
                return rows
            last = statuses
            time.sleep(interval)
