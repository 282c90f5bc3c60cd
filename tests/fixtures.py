"""Fixtures that build real things: config, databases, vhosts, workers.

Real-service fixtures skip when the service is missing on a developer's
machine, and fail instead when CI is set: CI must never pass by skipping.
"""

import configparser
import contextlib
import copy
import datetime
import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

import kombu
from oslo_config import cfg
from oslo_db import options as db_options
from oslo_db.sqlalchemy import engines
import oslo_messaging
from oslo_messaging import conffixture
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from prometheus_client import parser
import pytest
import sqlalchemy as sa

from scheduler_worker import conf as sw_conf
from scheduler_worker import context as sw_context
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import volumes
from scheduler_worker.db import api as db_api
from scheduler_worker.db import migration
from scheduler_worker.db.sqlalchemy import api as sqla_api
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import capabilities as sw_capabilities
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import pool_state

# NOTE: real captures from Cinder 29 (see wire/README.md), copied from
# the project's shared folder so that a clean clone carries them.
WIRE_DIR = os.path.join(os.path.dirname(__file__), 'wire')

PG_ADMIN_URL = os.environ.get(
    'SW_TEST_PG_URL', 'postgresql+psycopg2://postgres@127.0.0.1:5432/test')
MYSQL_ADMIN_URL = os.environ.get(
    'SW_TEST_MYSQL_URL',
    'mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4')
RABBIT_HOST = os.environ.get('SW_TEST_RABBIT_HOST', '127.0.0.1')
RABBIT_PORT = int(os.environ.get('SW_TEST_RABBIT_PORT', '5672'))

BACKENDS = ('sqlite', 'postgresql', 'mysql')


def unavailable(what: str) -> None:
    """Skip on a laptop, fail in CI: a real service the test needs is gone."""
    message = '%s is not available' % what
    if os.environ.get('CI'):
        pytest.fail(message + ' (CI is set: failing rather than skipping)')
    pytest.skip(message)


def unique_name(prefix: str) -> str:
    return '%s_%s' % (prefix, uuid.uuid4().hex[:10])


def make_conf(**overrides) -> cfg.ConfigOpts:
    """A private ConfigOpts with every option the worker reads, no files.

    Overrides are ``name=value`` for [DEFAULT] or ``group__name=value``.
    """
    conf = cfg.ConfigOpts()
    sw_conf.register_opts(conf)
    for group, opts in db_options.list_opts():
        conf.register_opts(opts, group=group)
    # NOTE: registers every option oslo.messaging reads (some of which it
    # otherwise registers on the global CONF only).
    conffixture.ConfFixture(conf)
    conf([], project='scheduler-worker', default_config_files=[],
         default_config_dirs=[])
    for key, value in overrides.items():
        group, _, name = key.rpartition('__')
        conf.set_override(name, value, group=group or None)
    return conf


def wire_sample(name: str) -> dict:
    with open(os.path.join(WIRE_DIR, name)) as sample:
        return json.load(sample)


# Databases

def _admin_engine(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, isolation_level='AUTOCOMMIT',
                            poolclass=sa.pool.NullPool)


def create_database(backend: str, tmp_path) -> str:
    """Create an empty database of this run; return its URL."""
    if backend == 'sqlite':
        return 'sqlite:///%s' % (tmp_path / 'scheduler_worker.sqlite')
    admin_url = PG_ADMIN_URL if backend == 'postgresql' else MYSQL_ADMIN_URL
    name = unique_name('sw_test')
    try:
        with _admin_engine(admin_url).connect() as connection:
            connection.execute(sa.text('CREATE DATABASE %s' % name))
    except sa.exc.OperationalError as exc:
        unavailable('%s at %s (%s)' % (backend, admin_url, exc.orig))
    return str(sa.engine.make_url(admin_url).set(database=name)
               .render_as_string(hide_password=False))


def drop_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite':
        return
    admin_url = PG_ADMIN_URL if parsed.get_backend_name() == 'postgresql' \
        else MYSQL_ADMIN_URL
    with _admin_engine(admin_url).connect() as connection:
        if parsed.get_backend_name() == 'postgresql':
            connection.execute(sa.text(
                'DROP DATABASE IF EXISTS %s WITH (FORCE)' % parsed.database))
        else:
            connection.execute(sa.text(
                'DROP DATABASE IF EXISTS %s' % parsed.database))


# Cinder's own schema, made by Cinder

CINDER_SCHEMA_VERSION = '9c74c1c6971f'


def cinder_venv() -> str:
    """The Cinder 29 venv (``make cinder-venv``); fails when missing.

    Not a skip: a Cinder-mode test that cannot run must not pass.
    """
    venv = os.environ.get('SW_CINDER_VENV') or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        '.cinder-venv')
    if not os.path.exists(os.path.join(venv, '.installed')):
        pytest.fail('Cinder 29 is not installed in %s: run "make cinder-venv '
                    'CINDER_VENV=%s" and set SW_CINDER_VENV' % (venv, venv))
    return venv


def cinder_config(url: str, tmp) -> tuple[str, dict[str, str]]:
    """(cinder.conf naming only the database, environment) for running
    Cinder's own code from its venv on ``url``.

    For MariaDB, Cinder's venv (PostgreSQL's driver only) is lent this
    venv's PyMySQL.
    """
    config = write_config(os.path.join(tmp, 'cinder.conf'), {
        'DEFAULT': {'state_path': tmp}, 'database': {'connection': url}})
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    if sa.engine.make_url(url).get_backend_name() == 'mysql':
        import pymysql
        lent = os.path.join(tmp, 'lent')
        if not os.path.exists(lent):
            os.makedirs(lent)
            os.symlink(os.path.dirname(pymysql.__file__),
                       os.path.join(lent, 'pymysql'))
        env['PYTHONPATH'] = lent
    return config, env


def cinder_schema(url: str) -> None:
    """Create Cinder 29's schema in the database at ``url``, as Cinder does.

    Runs the real ``cinder-manage db sync`` of the Cinder venv, with a
    cinder.conf that names only the database (cinder_config).
    """
    venv = cinder_venv()
    with tempfile.TemporaryDirectory(prefix='sw-cinder-schema-') as tmp:
        config, env = cinder_config(url, tmp)
        result = subprocess.run(
            [os.path.join(venv, 'bin', 'cinder-manage'), '--config-file',
             config, 'db', 'sync'], capture_output=True, text=True, env=env,
            timeout=600)
    if result.returncode:
        pytest.fail('cinder-manage db sync failed (%d): %s' % (
            result.returncode, result.stderr[-2000:]))


class CinderTemplate:
    """A database with Cinder's schema, copied for each test.

    ``cinder-manage db sync`` takes seconds: it runs once, into a
    template. PostgreSQL copies it with CREATE DATABASE ... TEMPLATE;
    MariaDB, which has no templates, table by table (SHOW CREATE TABLE,
    then the rows).
    """

    def __init__(self, backend: str = 'postgresql') -> None:
        self.backend = backend
        self.url = create_database(backend, None)
        self.name = sa.engine.make_url(self.url).database
        cinder_schema(self.url)
        self._admin = PG_ADMIN_URL if backend == 'postgresql' else \
            MYSQL_ADMIN_URL
        if backend == 'mysql':
            with _admin_engine(self.url).connect() as connection:
                self._tables = [(name, connection.execute(sa.text(
                    'SHOW CREATE TABLE `%s`' % name)).one()[1])
                    for name in sa.inspect(connection).get_table_names()]

    def copy(self) -> str:
        """A new database holding the template's schema and rows; its URL."""
        name = unique_name('sw_cinder')
        url = str(sa.engine.make_url(self._admin).set(database=name)
                  .render_as_string(hide_password=False))
        with _admin_engine(self._admin).connect() as connection:
            if self.backend == 'postgresql':
                connection.execute(sa.text(
                    'CREATE DATABASE %s TEMPLATE %s' % (name, self.name)))
                return url
            connection.execute(sa.text('CREATE DATABASE %s' % name))
        with _admin_engine(url).connect() as connection:
            connection.execute(sa.text('SET FOREIGN_KEY_CHECKS = 0'))
            for table, create in self._tables:
                connection.execute(sa.text(create))
                connection.execute(sa.text(
                    'INSERT INTO `%s` SELECT * FROM `%s`.`%s`' % (
                        table, self.name, table)))
        return url

    def drop(self) -> None:
        drop_database(self.url)


def _insert(table: str, row: dict) -> sa.Insert:
    """INSERT of one row, its names quoted as the dialect needs."""
    return sa.insert(sa.table(table, *map(sa.column, row))).values(row)


class CinderDatabase:
    """A Cinder 29 database (copied from the template), db synced in
    Cinder mode, patched into the DB API, with the facade in Cinder mode.

    Rows of Cinder's tables are added as Cinder's services add them
    (volumes as cinder-api's EntryCreateTask, with the workers row its
    SchedulerAPI.create_volume inserts).
    """

    def __init__(self, template: CinderTemplate, **engine_args) -> None:
        self.url = template.copy()
        self.engine = engines.create_engine(self.url, **engine_args)
        migration.db_sync(engine=self.engine, cinder=True)
        self._unpatch = sqla_api.main_context_manager.patch_engine(
            self.engine)
        sw_conf.CONF.set_override('backend', 'cinder', group='database')
        db_api._impl.cache_clear()
        self.volume_type_id = self.rows(
            "SELECT id FROM volume_types WHERE name = '__DEFAULT__'")[0][0]

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))

    def row(self, sql: str, **params) -> dict:
        [found] = self.rows(sql, **params)
        return dict(found._mapping)

    def execute(self, sql: str, **params) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text(sql), params)

    def add_volume(self, size: int = 1, project_id: str = 'project',
                   **values) -> str:
        """A volume as cinder-api creates it: ``creating``, no host, and
        its workers row ('Volume', id, 'creating', service_id NULL)."""
        now = timeutils.utcnow()
        row = {'id': str(uuid.uuid4()), 'size': size, 'status': 'creating',
               'attach_status': 'detached', 'project_id': project_id,
               'user_id': 'user', 'volume_type_id': self.volume_type_id,
               'availability_zone': 'nova', 'use_quota': True,
               'bootable': False, 'multiattach': False,
               'created_at': now, 'updated_at': None, 'deleted': False}
        row.update(values)
        with self.engine.begin() as connection:
            connection.execute(_insert('volumes', row))
            if row['status'] == 'creating':
                connection.execute(sa.text(
                    "INSERT INTO workers (resource_type, resource_id, "
                    "status, service_id, race_preventer, created_at, "
                    "updated_at, deleted) VALUES ('Volume', :id, "
                    "'creating', NULL, 0, :now, :now, false)"),
                    {'id': row['id'], 'now': now})
        return row['id']

    def add(self, table: str, **row) -> None:
        """Insert a row of Cinder's with Cinder's bookkeeping filled in."""
        now = timeutils.utcnow()
        row = dict({'created_at': now, 'updated_at': now, 'deleted': False},
                   **row)
        with self.engine.begin() as connection:
            connection.execute(_insert(table, row))

    def close(self) -> None:
        self._unpatch()
        sw_conf.CONF.clear_override('backend', group='database')
        db_api._impl.cache_clear()
        self.engine.dispose()
        drop_database(self.url)


class Database:
    """A fresh database, synced, and patched into the DB API for this test.

    ``engine_args`` go to oslo.db's create_engine (pool sizes, connection
    parameters).
    """

    def __init__(self, backend: str, tmp_path, **engine_args) -> None:
        self.backend = backend
        self.url = create_database(backend, tmp_path)
        self.engine = engines.create_engine(self.url, **engine_args)
        migration.db_sync(engine=self.engine)
        self._unpatch = sqla_api.main_context_manager.patch_engine(
            self.engine)

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))

    def close(self) -> None:
        self._unpatch()
        self.engine.dispose()
        drop_database(self.url)


# RabbitMQ

def rabbit_answers() -> bool:
    try:
        socket.create_connection((RABBIT_HOST, RABBIT_PORT), 2).close()
        return True
    except OSError:
        return False


class RabbitVhost:
    """A RabbitMQ vhost of this run, for guest, deleted afterwards."""

    def __init__(self) -> None:
        if not rabbit_answers() or shutil.which('rabbitmqctl') is None:
            unavailable('RabbitMQ (with rabbitmqctl) at %s:%d'
                        % (RABBIT_HOST, RABBIT_PORT))
        self.name = unique_name('sw-test')
        _rabbitmqctl('add_vhost', self.name)
        _rabbitmqctl('set_permissions', '-p', self.name, 'guest', '.*', '.*',
                     '.*')
        self.transport_url = 'rabbit://guest:guest@%s:%d/%s' % (
            RABBIT_HOST, RABBIT_PORT, self.name)
        self.amqp_url = 'amqp://guest:guest@%s:%d/%s' % (
            RABBIT_HOST, RABBIT_PORT, self.name)

    def delete(self) -> None:
        _rabbitmqctl('delete_vhost', self.name)


def free_port() -> int:
    """A local TCP port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def scrape_metrics(port: int) -> dict:
    """{(sample name, labels as a sorted tuple): value} of /metrics."""
    with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port,
                                timeout=10) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in parser.text_string_to_metric_families(text)
            for sample in family.samples}


@contextlib.contextmanager
def volume_creator(pool: str, total_gb: int, max_size: int):
    """(VolumeCreator, NotificationCapture) on fake://, with one pool.

    The database is whatever the test's database fixture set up.
    """
    conf = make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_notification_transport(conf)
    capture = NotificationCapture(transport)
    outbox = notifications.Outbox(conf, transport, 'unit')
    static_backend(pool, total_gb=total_gb, conf=conf)
    try:
        yield (volumes.VolumeCreator(outbox, max_size=max_size,
                                     scheduler=driver.FilterScheduler(conf)),
               capture)
    finally:
        capture.stop()
        transport.cleanup()


class CompetingClaim:
    """Another worker's transaction, committed between plan and claim.

    Wraps a scheduler's pools(): right after the creator read them, a real
    transaction (a connection of its own) claims ``size`` GiB of the
    named pool and commits. Once: the next read sees the pools as they
    now are. No thread, no timing: the race is lost every time.
    """

    def __init__(self, scheduler, pool_host: str, size: int) -> None:
        self._read = scheduler.pools
        self.pool_host, self.size, self.done = pool_host, size, False
        scheduler.pools = self.pools

    def pools(self, admin, **kwargs):
        pools = self._read(admin, **kwargs)
        if not self.done:
            self.done = True
            [pool] = [p for p in pools if p.host == self.pool_host]
            other = sw_context.get_admin_context()
            objects.Volume.create_all(
                other, [objects.Volume.new(other, id=str(uuid.uuid4()),
                                           size=self.size, host=pool.host)],
                claims=[pool.claim(self.size, False)])
        return pools


def queue_depth(amqp_url: str, queue: str) -> int:
    """Messages ready in a queue (unacknowledged ones not counted)."""
    with kombu.Connection(amqp_url) as conn:
        _, ready, _ = conn.default_channel.queue_declare(queue, passive=True)
        return ready


def publish_many(amqp_url: str, routing_key: str, bodies,
                 exchange: str = 'openstack') -> int:
    """Publish bodies on one connection, each confirmed by the broker."""
    count = 0
    with kombu.Connection(amqp_url,
                          transport_options={'confirm_publish': True}) as conn:
        producer = conn.Producer()
        for body in bodies:
            producer.publish(body, exchange=exchange, routing_key=routing_key,
                             delivery_mode=2, serializer=None,
                             content_type='application/json',
                             content_encoding='utf-8')
            count += 1
    return count


def consumer_queues(vhost: str) -> list[str]:
    """Queues of the vhost that have a consumer, as the broker sees it."""
    out = _rabbitmqctl('list_consumers', '-p', vhost, '--no-table-headers',
                       'queue_name')
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def exchanges(vhost: str) -> list[str]:
    """Names of the exchanges of a vhost."""
    out = _rabbitmqctl('list_exchanges', '-p', vhost, '--no-table-headers',
                       'name')
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def queue_messages(vhost: str) -> dict[str, int]:
    """{queue: messages ready or unacknowledged} of a vhost."""
    out = _rabbitmqctl('list_queues', '-p', vhost, '--no-table-headers',
                       'name', 'messages')
    return {name: int(count) for name, count in
            (line.split() for line in out.splitlines() if line.strip())}


def close_connections(vhost: str) -> int:
    """Close every client connection to the vhost, as a broker would."""
    out = _rabbitmqctl('list_connections', '--no-table-headers', 'pid',
                       'vhost')
    closed = 0
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] == vhost:
            _rabbitmqctl('close_connection', fields[0], 'closed by a test')
            closed += 1
    return closed


def set_vhost_access(vhost: str, allowed: bool) -> None:
    """Let guest into the vhost, or keep it out (existing connections stay)."""
    if allowed:
        _rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*',
                     '.*')
    else:
        _rabbitmqctl('clear_permissions', '-p', vhost, 'guest')


def set_queue_policy(vhost: str, name: str, pattern: str,
                     definition: dict) -> None:
    """A broker policy on the vhost's queues whose names match pattern."""
    _rabbitmqctl('set_policy', '-p', vhost, name, pattern,
                 json.dumps(definition), '--apply-to', 'queues')


def clear_policy(vhost: str, name: str) -> None:
    _rabbitmqctl('clear_policy', '-p', vhost, name)


def restart_rabbitmq(down_for: float = 2.0) -> None:
    """Stop and start the RabbitMQ application, as an operator would."""
    _rabbitmqctl('stop_app')
    # NOTE: the scenario: an outage that lasts, with the workers retrying.
    time.sleep(down_for)
    _rabbitmqctl('start_app')
    _rabbitmqctl('await_startup')


def restart_postgresql() -> None:
    versions = os.listdir('/etc/postgresql') if os.path.isdir(
        '/etc/postgresql') else []
    if len(versions) != 1 or shutil.which('pg_ctlcluster') is None:
        unavailable('a local PostgreSQL cluster to restart')
    subprocess.run(['pg_ctlcluster', '--skip-systemctl-redirect',
                    versions[0], 'main', 'restart'], check=True,
                   capture_output=True, timeout=120)


def _rabbitmqctl(*args: str) -> str:
    result = subprocess.run(['rabbitmqctl', '-q', *args],
                            capture_output=True, text=True, timeout=60)
    if result.returncode:
        # NOTE: its stderr says why (e.g. the app stopped by a fault test).
        raise AssertionError('rabbitmqctl %s failed (%d): %s' % (
            ' '.join(args), result.returncode,
            result.stderr.strip().splitlines()[:1]))
    return result.stdout


# Notifications

class NotificationCapture:
    """A real notification listener: what a consumer of our topic sees."""

    def __init__(self, transport: oslo_messaging.Transport,
                 topic: str = 'notifications') -> None:
        self.received: list[dict] = []
        self._changed = threading.Condition()
        self._listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=topic)], [self],
            executor='threading')
        self._listener.start()

    def _record(self, priority, ctxt, publisher_id, event_type, payload,
                metadata):
        with self._changed:
            self.received.append({
                'priority': priority, 'context': ctxt,
                'publisher_id': publisher_id, 'event_type': event_type,
                'payload': payload, 'metadata': metadata})
            self._changed.notify_all()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('INFO', ctxt, publisher_id, event_type, payload,
                     metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('ERROR', ctxt, publisher_id, event_type, payload,
                     metadata)

    def of(self, event_type: str) -> list[dict]:
        return [n for n in self.received if n['event_type'] == event_type]

    def wait_for(self, event_type: str, count: int,
                 timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.of(event_type)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        'expected %d %s notifications, got %d: %r' % (
                            count, event_type, len(self.of(event_type)),
                            self.received))
                self._changed.wait(left)
        return self.of(event_type)

    def stop(self) -> None:
        self._listener.stop()
        self._listener.wait()


def wait_until(predicate, timeout: float = 30, interval: float = 0.05,
               what: str = 'condition'):
    """Poll until predicate() is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(interval)


# Raw AMQP: what a client we did not write puts on the wire

def oslo_envelope(message: dict) -> str:
    """An oslo.messaging 2.0 envelope around a message, as JSON text."""
    return json.dumps({'oslo.version': '2.0',
                       'oslo.message': json.dumps(message)})


def cinder_cast_message(volume_id: str) -> dict:
    """Cinder's captured create_volume cast, for a new volume id."""
    message = copy.deepcopy(wire_sample('create_volume_cast.json')['message'])
    message['_unique_id'] = uuid.uuid4().hex
    args = message['args']
    args['volume']['versioned_object.data']['id'] = volume_id
    spec = args['request_spec']['versioned_object.data']
    spec['volume_id'] = volume_id
    spec['volume']['versioned_object.data']['id'] = volume_id
    return message


def plain_cast_message(volume: dict, **context) -> dict:
    """A create_volume cast with a plain-dict volume and no OVO at all."""
    message = {'_context_%s' % k: v for k, v in context.items()}
    message.update({'_unique_id': uuid.uuid4().hex, 'method':
                    'create_volume', 'version': '3.0',
                    'args': {'volume': volume}})
    return message


def publish_raw(amqp_url: str, routing_key: str, body: str,
                exchange: str = 'openstack', **properties) -> None:
    """Publish one body with kombu alone, confirmed by the broker."""
    properties.setdefault('content_type', 'application/json')
    properties.setdefault('content_encoding', 'utf-8')
    with kombu.Connection(amqp_url,
                          transport_options={'confirm_publish': True}) as conn:
        producer = conn.Producer()
        producer.publish(body, exchange=exchange, routing_key=routing_key,
                         delivery_mode=2, serializer=None, **properties)


# The worker as operators run it: console scripts and a config file

BIN_DIR = os.path.dirname(sys.executable)


def console_script(name: str) -> str:
    return os.path.join(BIN_DIR, name)


def write_config(path, options: dict[str, dict[str, object]]) -> str:
    """Write an oslo.config file: {section: {option: value}}."""
    parser = configparser.ConfigParser(interpolation=None)
    for section, values in options.items():
        parser[section] = {k: _ini_value(v) for k, v in values.items()}
    with open(path, 'w') as f:
        parser.write(f)
    return str(path)


def _ini_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)


def manage(config_file: str, *args: str) -> str:
    """Run scheduler-worker-manage; return its standard output."""
    return subprocess.run(
        [console_script('scheduler-worker-manage'), '--config-file',
         config_file, *args], check=True, capture_output=True, text=True,
        timeout=120).stdout


class WorkerProcess:
    """The real ``scheduler-worker`` daemon, in its own process group.

    ``env`` is added to the environment; ``prefix`` goes before the
    command (e.g. a shell that sets variables and execs it).
    """

    def __init__(self, config_file: str, log_path,
                 env: dict[str, str] | None = None,
                 prefix: list[str] | None = None) -> None:
        self.config_file = config_file
        self.log_path = str(log_path)
        self.env = env
        self.prefix = prefix or []
        self.process = None

    def start(self) -> 'WorkerProcess':
        log = open(self.log_path, 'ab')
        env = dict(os.environ, **self.env) if self.env else None
        self.process = subprocess.Popen(
            [*self.prefix, console_script('scheduler-worker'),
             '--config-file', self.config_file], stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, env=env)
        log.close()
        return self

    def log(self) -> str:
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def wait_consuming(self, count: int = 1, timeout: float = 60) -> None:
        """Wait until ``count`` worker processes said they consume."""
        def consuming():
            if self.process.poll() is not None:
                raise AssertionError('worker exited with %s:\n%s' % (
                    self.process.returncode, self.log()[-4000:]))
            return self.log().count(' consuming topic ') >= count
        wait_until(consuming, timeout=timeout, what='the worker to consume')

    def terminate(self, timeout: float = 90) -> int:
        """SIGTERM the master, as systemd does; return its exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers at once."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(30)


class Terminal:
    """A command in a new pseudo-terminal, as a shell runs a job.

    The command leads the terminal's session and foreground process
    group, so the terminal's interrupt character reaches it as Ctrl-C
    typed by a user would.
    """

    def __init__(self, argv: list[str], cwd: str | None = None) -> None:
        self.pid, self._fd = pty.fork()
        if self.pid == 0:  # the child: nothing but exec
            try:
                os.chdir(cwd or os.getcwd())
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.returncode = None
        self._seen = set()
        self._output = bytearray()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 65536)
            except OSError:  # EIO: every process let go of the terminal
                data = b''
            with self._changed:
                self._output += data
                self._changed.notify_all()
            if not data:
                return

    def output(self) -> str:
        with self._changed:
            return self._output.decode(errors='replace')

    def wait_for(self, text: str, count: int = 1,
                 timeout: float = 60) -> None:
        with self._changed:
            if not self._changed.wait_for(
                    lambda: self._output.decode(errors='replace').count(
                        text) >= count, timeout):
                raise AssertionError('%d x %r not in the terminal within '
                                     '%ss:\n%s' % (count, text, timeout,
                                                    self.output()[-4000:]))

    def interrupt(self) -> None:
        """Type Ctrl-C: the terminal sends SIGINT to its foreground group."""
        os.write(self._fd, b'\x03')

    def process_tree(self) -> set[tuple[int, str]]:
        """The command and its descendants, as (pid, start time) pairs."""
        tree = process_tree(self.pid) if self.returncode is None else set()
        self._seen |= tree
        return tree

    def wait(self, timeout: float = 90) -> int:
        """The command's exit status; AssertionError if it still runs."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._reader.join(10)
                self.returncode = os.waitstatus_to_exitcode(status)
                return self.returncode
            if time.monotonic() > deadline:
                raise AssertionError('still running after %ss:\n%s' % (
                    timeout, self.output()[-4000:]))
            time.sleep(0.05)

    def __enter__(self) -> 'Terminal':
        return self

    def __exit__(self, *exc_info) -> None:
        self.kill()

    def kill(self) -> None:
        """SIGKILL what is left of every process tree seen, then reap."""
        self.process_tree()
        for pid, _ in still_running(self._seen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _stat(pid: int) -> list[str] | None:
    try:
        with open('/proc/%d/stat' % pid) as f:
            # NOTE: after the command name, which may hold spaces.
            return f.read().rpartition(')')[2].split()
    except OSError:
        return None


def process_tree(root: int) -> set[tuple[int, str]]:
    """``root`` and its live descendants, as (pid, start time) pairs.

    The start time tells a process from a later one given the same pid.
    """
    stats = {int(name): _stat(int(name)) for name in os.listdir('/proc')
             if name.isdigit()}
    children = {}
    for pid, fields in stats.items():
        if fields and fields[0] != 'Z':
            children.setdefault(int(fields[1]), []).append(pid)
    tree, todo = set(), [root] if stats.get(root) else []
    while todo:
        pid = todo.pop()
        tree.add((pid, stats[pid][19]))
        todo += children.get(pid, [])
    return tree


def still_running(tree: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Those of ``tree`` that still run (zombies are done)."""
    return {(pid, start) for pid, start in tree
            if (fields := _stat(pid)) and fields[19] == start and
            fields[0] != 'Z'}


# systemd's end of the notify protocol

class NotifySocket:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path) -> None:
        self.path = str(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self.received: list[tuple[float, list[str]]] = []

    def receive(self, timeout: float) -> list[str] | None:
        """The lines of the next datagram, or None after ``timeout``."""
        self._sock.settimeout(max(timeout, 0.001))
        try:
            data = self._sock.recv(4096)
        except TimeoutError:
            return None
        lines = data.decode().splitlines()
        self.received.append((time.monotonic(), lines))
        return lines

    def wait_for(self, line: str, timeout: float = 60) -> list[str]:
        """The first datagram carrying ``line``; AssertionError if none."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no %s within %ss; got %r' % (
                    line, timeout, self.received))
            lines = self.receive(left)
            if lines is not None and line in lines:
                return lines

    def close(self) -> None:
        self._sock.close()


class Deployment:
    """A synced database, a topic in the run's vhost, and worker configs.

    ``config(section__option=value, ...)`` writes a config file over the
    base sections; ``worker(config)`` starts the real daemon with it.
    """

    def __init__(self, tmp_path, vhost: RabbitVhost,
                 backend: str = 'postgresql', url: str | None = None,
                 host: str = 'ops-host') -> None:
        self.tmp_path = tmp_path
        self.vhost = vhost
        self.host = host
        self.url = url or create_database(backend, tmp_path)
        self.topic = unique_name('sw-ops')
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.workers: list[WorkerProcess] = []
        self.sections = {
            'DEFAULT': {'transport_url': vhost.transport_url,
                        'host': host, 'state_path': tmp_path},
            'scheduler': {'topic': self.topic},
            'database': {'connection': self.url},
            'oslo_messaging_notifications': {
                'topics': unique_name('sw-ops-notifications')},
        }
        manage(self.config(), 'db', 'sync')
        # NOTE: a pool with room for every cast, so that volumes are
        # placed rather than refused with NoValidBackend.
        manage(self.config(), 'backend', 'register', '%s@lvm#pool' % host,
               '--total-gb', '1000000', '--availability-zone', 'nova')

    def config(self, name: str = 'worker.conf', **options) -> str:
        sections = copy.deepcopy(self.sections)
        for key, value in options.items():
            section, _, option = key.rpartition('__')
            sections.setdefault(section or 'DEFAULT', {})[option] = value
        return write_config(self.tmp_path / name, sections)

    def worker(self, config: str | None = None, **kwargs) -> WorkerProcess:
        process = WorkerProcess(
            config or self.config(),
            self.tmp_path / ('worker-%d.log' % len(self.workers)), **kwargs)
        self.workers.append(process)
        return process.start()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))

    def volume_count(self) -> int:
        return self.rows('SELECT count(*) FROM volumes')[0][0]

    def publish(self, bodies) -> int:
        return publish_many(self.vhost.amqp_url, self.topic, bodies)

    def queue_depth(self) -> int:
        return queue_depth(self.vhost.amqp_url, self.topic)

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.engine.dispose()
        drop_database(self.url)


def plain_casts(count: int, tag: str, **context) -> list[str]:
    """Raw create_volume casts of plain-dict volumes named TAG-00000..."""
    return [oslo_envelope(plain_cast_message(
        {'id': str(uuid.uuid4()), 'size': 1, 'display_name':
         '%s-%05d' % (tag, i)}, user_id='u', project_id='p',
        request_id='req-%s-%05d' % (tag, i), **context))
        for i in range(count)]


# Backends: what Cinder's volume services report, and pools registered
# by hand

def lvm_pool(name: str, total_gb, free_gb=None, **extra) -> dict:
    """One pool as Cinder's LVM driver reports it (get_volume_stats)."""
    pool = {'pool_name': name, 'total_capacity_gb': total_gb,
            'free_capacity_gb': total_gb if free_gb is None else free_gb,
            'reserved_percentage': 0,
            'location_info': 'LVMVolumeDriver:lab:%s:thick:0' % name,
            'QoS_support': False, 'provisioned_capacity_gb': 0,
            'max_over_subscription_ratio': '20.0',
            'thin_provisioning_support': False,
            'thick_provisioning_support': True, 'total_volumes': 0,
            'filter_function': None, 'goodness_function': None,
            'multiattach': True, 'backend_state': 'up',
            'allocated_capacity_gb': 0, 'cacheable': True}
    pool.update(extra)
    return pool


def lvm_capabilities(*pools: dict, **backend) -> dict:
    """A volume service's report: backend-level values and its pools."""
    capabilities = {'volume_backend_name': 'lvm',
                    'vendor_name': 'Open Source', 'driver_version': '3.0.0',
                    'storage_protocol': 'iSCSI', 'sparse_copy_volume': True,
                    'shared_targets': False, 'pools': list(pools)}
    capabilities.update(backend)
    return capabilities


def cast_capabilities(transport: oslo_messaging.Transport, topic: str,
                      host: str, capabilities: dict, timestamp=None,
                      version: str = '3.3',
                      service_name: str = 'volume') -> None:
    """Cast update_service_capabilities as Cinder's SchedulerAPI does.

    A fanout cast on the topic; from 3.3 on with cluster_name and the
    timestamp serialized by jsonutils.to_primitive; the context is the
    volume service's admin context, sent as a plain dict.
    """
    client = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic=topic),
        serializer=oslo_messaging.NoOpSerializer())
    args = {'service_name': service_name, 'host': host,
            'capabilities': capabilities}
    if version != '3.0':
        args.update(cluster_name=None, timestamp=jsonutils.to_primitive(
            timestamp or timeutils.utcnow()))
    ctxt = sw_context.RequestContext(is_admin=True, overwrite=False)
    client.prepare(fanout=True, version=version).cast(
        ctxt.to_dict(), 'update_service_capabilities', **args)


def static_backend(pool_host: str = 'test-host@lvm#pool',
                   total_gb: float = 1000, availability_zone: str = 'nova',
                   conf: cfg.ConfigOpts | None = None, **kwargs) -> dict:
    """Register a pool that never expires, in the database in use."""
    registry = backends.BackendRegistry(conf or make_conf())
    return registry.register_static(
        sw_context.get_admin_context(), pool_host, total_gb=total_gb,
        availability_zone=availability_zone, **kwargs)


def pool(capabilities: dict, host: str = 'host1@lvm',
         allocated_gb: int | None = None,
         availability_zone: str = 'nova', static: bool = False,
         reported_seconds_ago: float = 0,
         down_time: int = 180) -> pool_state.PoolState:
    """The PoolState of a report's first pool, as the database gives it.

    The row is built by the code that builds it for the database
    (capabilities.pool_records), without a database. ``allocated_gb`` is
    what volumes claimed; by default what a new pool starts with.
    """
    record = sw_capabilities.pool_records(
        host, capabilities, availability_zone, '20.0')[0]
    reported = timeutils.utcnow() - datetime.timedelta(
        seconds=reported_seconds_ago)
    if allocated_gb is not None:
        record['allocated_gb'] = allocated_gb
    row = dict(record, id=1,
               backend={'host': host, 'cluster_name': None,
                        'static': static, 'updated_at': reported,
                        'created_at': reported})
    return pool_state.PoolState(row, down_time)


class VolumeServiceCapture:
    """A volume (or backup) service's RPC server: the casts it receives.

    Listens on ``topic`` (e.g. cinder-volume.host@backend) and server
    ``server``, as cinder-volume does, with no serializer: each cast is
    recorded as it arrived, context and arguments as plain JSON data.
    """

    def __init__(self, transport: oslo_messaging.Transport, topic: str,
                 server: str, version: str = '3.0',
                 methods=('create_volume', 'extend_volume',
                          'create_snapshot', 'create_backup')) -> None:
        self.casts: list[dict] = []
        self._changed = threading.Condition()
        recorder = self

        class Endpoint:
            target = oslo_messaging.Target(version=version)

        for name in methods:
            def record(_self, ctxt, _method=name, **kwargs):
                with recorder._changed:
                    recorder.casts.append({'method': _method,
                                           'context': ctxt, 'args': kwargs})
                    recorder._changed.notify_all()
            setattr(Endpoint, name, record)
        self._server = oslo_messaging.get_rpc_server(
            transport, oslo_messaging.Target(topic=topic, server=server),
            [Endpoint()], serializer=oslo_messaging.NoOpSerializer())
        self._server.start()

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.casts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError('expected %d casts, got %d: %r' % (
                        count, len(self.casts), self.casts))
                self._changed.wait(left)
        return list(self.casts)

    def stop(self) -> None:
        self._server.stop()
        self._server.wait()
