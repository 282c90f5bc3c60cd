"""systemd's notify protocol with a real worker, broker and database.

The test plays systemd: it binds the datagram socket, starts the daemon with
NOTIFY_SOCKET (and WATCHDOG_USEC), and reads what arrives.
"""

import signal
import time

from oslo_db.sqlalchemy import engines
import sqlalchemy as sa

from scheduler_worker.db import migration
from tests import fixtures

# NOTE: a ping every half second.
WATCHDOG_USEC = 1000000


def _admin():
    engine = sa.create_engine(fixtures.PG_ADMIN_URL,
                              isolation_level='AUTOCOMMIT',
                              poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        fixtures.unavailable('postgresql (%s)' % exc.orig)
    return engine


def _appear_synced(name: str) -> None:
    """Create database ``name`` with its schema, in one step.

    Synced under another name, then renamed: the worker never sees a
    database without tables.
    """
    staging = name + '_staging'
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(sa.text('CREATE DATABASE %s' % staging))
    engine = engines.create_engine(str(
        sa.engine.make_url(fixtures.PG_ADMIN_URL).set(database=staging)))
    migration.db_sync(engine=engine)
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text('ALTER DATABASE %s RENAME TO %s' % (
            staging, name)))


def _states(notify, timeout: float) -> list[str]:
    """Every line received within ``timeout`` seconds."""
    lines, deadline = [], time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        lines.extend(notify.receive(left) or [])
    return lines


def _watchdog_silent_for(notify, quiet: float, timeout: float) -> bool:
    """Whether WATCHDOG=1 stops for ``quiet`` seconds within ``timeout``."""
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < deadline:
        lines = notify.receive(0.2)
        if lines and 'WATCHDOG=1' in lines:
            last = time.monotonic()
        elif time.monotonic() - last >= quiet:
            return True
    return False


def test_ready_only_with_database_and_consumer_then_watchdog_and_stopping(
        tmp_path, rabbit_vhost):
    name = fixtures.unique_name('sw_notify')
    url = str(sa.engine.make_url(fixtures.PG_ADMIN_URL).set(database=name))
    _admin()
    topic = fixtures.unique_name('sw-notify')
    config = fixtures.write_config(tmp_path / 'worker.conf', {
        'DEFAULT': {'transport_url': rabbit_vhost.transport_url,
                    'host': 'notify-host', 'state_path': tmp_path},
        'scheduler': {'topic': topic},
        # NOTE: keep trying a database that is not there yet.
        'database': {'connection': url, 'max_retries': -1,
                     'retry_interval': 1},
    })
    notify = fixtures.NotifySocket(tmp_path / 'notify.sock')
    # NOTE: as systemd does, WATCHDOG_PID names the main process; the
    # shell execs the daemon, which keeps its pid.
    worker = fixtures.WorkerProcess(
        config, tmp_path / 'worker.log',
        env={'NOTIFY_SOCKET': notify.path,
             'WATCHDOG_USEC': str(WATCHDOG_USEC)},
        prefix=['sh', '-c', 'WATCHDOG_PID=$$ exec "$@"', 'sh']).start()
    try:
        fixtures.wait_until(lambda: 'OperationalError' in worker.log() or
                            'database "%s" does not exist' % name
                            in worker.log(), timeout=60,
                            what='the worker to try the database')
        assert _states(notify, 5) == [], 'notified while the DB is missing'
        assert fixtures.consumer_queues(rabbit_vhost.name) == []

        _appear_synced(name)
        ready = notify.wait_for('READY=1', timeout=120)
        queues = fixtures.consumer_queues(rabbit_vhost.name)
        assert topic in queues and '%s.notify-host' % topic in queues
        assert any(line.startswith('STATUS=Consuming topic %s' % topic)
                   for line in ready)

        assert _states(notify, 3).count('WATCHDOG=1') >= 3

        # NOTE: the broker drops the worker and refuses it back: pings
        # stop while it cannot consume, and resume when it can.
        fixtures.set_vhost_access(rabbit_vhost.name, False)
        try:
            assert fixtures.close_connections(rabbit_vhost.name) > 0
            assert _watchdog_silent_for(notify, quiet=3, timeout=60)
            assert topic not in fixtures.consumer_queues(rabbit_vhost.name)
        finally:
            fixtures.set_vhost_access(rabbit_vhost.name, True)
        notify.wait_for('WATCHDOG=1', timeout=90)
        assert topic in fixtures.consumer_queues(rabbit_vhost.name)

        worker.process.send_signal(signal.SIGTERM)
        notify.wait_for('STOPPING=1', timeout=30)
        assert worker.process.wait(90) == 0
    finally:
        worker.kill()
        notify.close()
        fixtures.drop_database(url)
