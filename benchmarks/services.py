"""The run's own RabbitMQ vhost and PostgreSQL databases: create, use, drop."""

import os
import select
import subprocess
import threading
import time
import uuid

import psycopg2
import psycopg2.extensions

from benchmarks import workerproc

RABBIT_HOST = os.environ.get('SW_BENCH_RABBIT_HOST', '127.0.0.1')
RABBIT_PORT = int(os.environ.get('SW_BENCH_RABBIT_PORT', '5672'))
PG_ADMIN_DSN = os.environ.get(
    'SW_BENCH_PG_DSN', 'host=127.0.0.1 port=5432 user=postgres '
    'dbname=postgres')
PG_WORKER_URL = os.environ.get(
    'SW_BENCH_PG_URL', 'postgresql+psycopg2://postgres@127.0.0.1:5432/')

# NOTE: fires in the worker's transaction and is delivered to listeners
# when (and only if) it commits: the moment a row becomes visible.
_COMMIT_TRIGGER = """
CREATE FUNCTION bench_volume_committed() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('bench_volumes', NEW.id);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER bench_volume_committed AFTER INSERT ON volumes
  FOR EACH ROW EXECUTE FUNCTION bench_volume_committed();
"""


def run_id() -> str:
    return uuid.uuid4().hex[:8]


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(['rabbitmqctl', '-q', *args], capture_output=True,
                          text=True, timeout=60)
    if done.returncode:
        raise subprocess.CalledProcessError(
            done.returncode, done.args, done.stdout,
            done.stderr.strip()[-500:] or None)
    return done.stdout


def wait_until_up(patience: float = 180.0) -> None:
    """Wait until RabbitMQ and PostgreSQL both answer (or give up)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            rabbitmqctl('list_vhosts')
            _admin().close()
            return
        except (subprocess.SubprocessError, psycopg2.Error, OSError):
            time.sleep(3)


def _retried(action, what: str, patience: float = 90.0) -> None:
    """Retry a cleanup step while a service restarts under us.

    NOTE: other sessions on this machine may restart RabbitMQ or
    PostgreSQL (fault tests); what we created must go all the same.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            action()
            return
        except (subprocess.SubprocessError, psycopg2.Error) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError('could not remove %s: %s'
                                   % (what, exc)) from exc
            time.sleep(3)


class Vhost:
    """A RabbitMQ vhost of this run, guest allowed everything in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        rabbitmqctl('add_vhost', name)
        rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*')
        self.transport_url = 'rabbit://guest:guest@%s:%d/%s' % (
            RABBIT_HOST, RABBIT_PORT, name)
        self.amqp_url = 'amqp://guest:guest@%s:%d/%s' % (
            RABBIT_HOST, RABBIT_PORT, name)

    def connections(self) -> int:
        """AMQP connections open to this vhost now (ours included)."""
        return rabbitmqctl('list_connections', 'vhost').split().count(
            self.name)

    def delete(self) -> None:
        def delete() -> None:
            if self.name in rabbitmqctl('list_vhosts', 'name').split():
                rabbitmqctl('delete_vhost', self.name)

        _retried(delete, 'RabbitMQ vhost %s' % self.name)


def settle(quiet_pct: float = 25.0, patience: float = 60.0,
           sample: float = 1.0) -> dict:
    """Let PostgreSQL write out what earlier phases left, and wait for quiet.

    A phase run right after the throughput phases ran while PostgreSQL
    was still writing their rows out and vacuuming (the first latency
    variant measured up to 40% slower than the same build later): a
    CHECKPOINT, then samples of the machine's CPU until one is below
    ``quiet_pct`` or ``patience`` is spent. Returns what it waited.
    """
    started = time.monotonic()
    connection = _admin()
    try:
        with connection.cursor() as cursor:
            cursor.execute('CHECKPOINT')
    finally:
        connection.close()
    busy_pct = 100.0
    while time.monotonic() - started < patience:
        busy, total = workerproc.machine_busy()
        time.sleep(sample)
        busy_after, total_after = workerproc.machine_busy()
        busy_pct = 100.0 * (busy_after - busy) / max(total_after - total, 1)
        if busy_pct < quiet_pct:
            break
    return {'seconds': time.monotonic() - started,
            'last_busy_pct': busy_pct}


def _admin() -> psycopg2.extensions.connection:
    connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=10)
    connection.autocommit = True
    return connection


class Database:
    """A PostgreSQL database of this run; the worker's URL and ours."""

    def __init__(self, name: str) -> None:
        self.name = name
        admin = _admin()
        try:
            with admin.cursor() as cursor:
                cursor.execute('CREATE DATABASE %s' % name)
        finally:
            admin.close()
        self.url = PG_WORKER_URL + name
        self.dsn = psycopg2.extensions.make_dsn(PG_ADMIN_DSN, dbname=name)
        self._connection = None
        self.statements = 0

    def connect(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(self.dsn, connect_timeout=10)
        connection.autocommit = True
        return connection

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement (its own transaction) on our connection."""
        if self._connection is None:
            self._connection = self.connect()
        self.statements += 1
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def scalar(self, sql: str, params: tuple = ()) -> object:
        return self.rows(sql, params)[0][0]

    def activity(self) -> dict[str, int]:
        """Transactions, sessions and rows of this database so far.

        The counters include our own statements; ``statements`` counts
        those, so that a caller can take them out.
        """
        # NOTE: a backend publishes its counters at most once a second
        # unless asked; the next statement then reads them fresh.
        self.rows('SELECT pg_stat_force_next_flush()')
        [row] = self.rows(
            'SELECT xact_commit, xact_rollback, sessions, tup_inserted, '
            'tup_updated, tup_deleted FROM pg_stat_database '
            'WHERE datname = %s', (self.name,))
        return dict(zip(('commits', 'rollbacks', 'sessions', 'inserted',
                         'updated', 'deleted'), row, strict=True))

    def volume_count(self) -> int:
        return int(self.scalar('SELECT count(*) FROM volumes'))

    def add_commit_trigger(self) -> None:
        """Have PostgreSQL tell a listener when each volume row commits."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(_COMMIT_TRIGGER)
        finally:
            connection.close()

    def drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except psycopg2.Error:
                pass
            self._connection = None

        def drop() -> None:
            admin = _admin()
            try:
                with admin.cursor() as cursor:
                    cursor.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)'
                                   % self.name)
            finally:
                admin.close()

        _retried(drop, 'PostgreSQL database %s' % self.name)


class CommitListener(threading.Thread):
    """Notes the wall-clock time at which each volume row became visible."""

    def __init__(self, database: Database) -> None:
        super().__init__(name='commit-listener', daemon=True)
        self.seen: dict[str, float] = {}
        self.error: psycopg2.Error | None = None
        self._connection = database.connect()
        with self._connection.cursor() as cursor:
            cursor.execute('LISTEN bench_volumes')
        self._stopping = threading.Event()

    def run(self) -> None:
        connection = self._connection
        try:
            while not self._stopping.is_set():
                if select.select([connection], [], [], 0.2)[0]:
                    connection.poll()
                    now = time.time()
                    for notify in connection.notifies:
                        self.seen[notify.payload] = now
                    connection.notifies.clear()
        except psycopg2.Error as exc:
            # NOTE: PostgreSQL restarted under us; the phase waiting for
            # commits sees it, instead of waiting for a stall.
            self.error = exc

    def stop(self) -> None:
        self._stopping.set()
        self.join(5)
        self._connection.close()
