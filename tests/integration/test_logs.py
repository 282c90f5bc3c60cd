"""Logs operators can search, and that never show a secret."""

import json
import subprocess
import uuid

from oslo_log import log
import pytest
import sqlalchemy as sa

from tests import fixtures

# NOTE: oslo.messaging, kombu, amqp and oslo.db at DEBUG too: their
# connection lines are where URLs and credentials would show. The other
# defaults stay (stevedore's DEBUG lines break oslo.log's JSON formatter).
_VERBOSE = ('amqp', 'kombu', 'oslo.messaging', 'oslo_messaging', 'oslo_db',
            'cotyledon')
VERBOSE_LIBRARIES = [level for level in log.get_default_log_levels()
                     if level.split('=')[0] not in _VERBOSE] + [
    '%s=DEBUG' % name for name in _VERBOSE]


def test_json_lines_carry_request_ids_and_volume_id(deployment):
    deployed = deployment()
    worker = deployed.worker(deployed.config(use_json=True, debug=True))
    worker.wait_consuming()
    volume_id = str(uuid.uuid4())
    message = fixtures.plain_cast_message(
        {'id': volume_id, 'size': 1}, user_id='u', project_id='p',
        request_id='req-json-1', global_request_id='req-global-json-1')
    deployed.publish([fixtures.oslo_envelope(message)])
    fixtures.wait_until(lambda: deployed.volume_count() == 1,
                        what='the volume')
    assert worker.terminate() == 0

    records = [json.loads(line) for line in worker.log().splitlines()]
    [created] = [r for r in records
                 if r['message'].startswith('Created volume')]
    assert created['extra']['volume_id'] == volume_id
    assert created['context']['request_id'] == 'req-json-1'
    assert created['context']['global_request_id'] == 'req-global-json-1'
    assert created['levelname'] == 'INFO'


class Secrets:
    """A RabbitMQ user and a database user with passwords to look for."""

    def __init__(self, vhost: fixtures.RabbitVhost, backend: str,
                 url: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.rabbit_user = 'sw_log_%s' % tag
        self.rabbit_password = 'Rabbit-Secret-%s' % tag
        self.db_user = 'sw_log_%s' % tag
        self.db_password = 'Db-Secret-%s' % tag
        self.token = 'Token-Secret-%s' % tag
        self._backend = backend
        self._admin_url = sa.engine.make_url(
            fixtures.PG_ADMIN_URL if backend == 'postgresql'
            else fixtures.MYSQL_ADMIN_URL)
        subprocess.run(['rabbitmqctl', '-q', 'add_user', self.rabbit_user,
                        self.rabbit_password], check=True,
                       capture_output=True, timeout=60)
        subprocess.run(['rabbitmqctl', '-q', 'set_permissions', '-p',
                        vhost.name, self.rabbit_user, '.*', '.*', '.*'],
                       check=True, capture_output=True, timeout=60)
        self._database = sa.engine.make_url(url).database
        self._sql(*self._grants(self._database), database=self._database)
        self.db_url = str(sa.engine.make_url(url).set(
            username=self.db_user, password=self.db_password)
            .render_as_string(hide_password=False))
        self.transport_url = 'rabbit://%s:%s@%s:%d/%s' % (
            self.rabbit_user, self.rabbit_password, fixtures.RABBIT_HOST,
            fixtures.RABBIT_PORT, vhost.name)

    def _grants(self, database: str) -> list[str]:
        user, password = self.db_user, self.db_password
        if self._backend == 'postgresql':
            return ["CREATE ROLE %s LOGIN PASSWORD '%s'" % (user, password),
                    'GRANT ALL ON ALL TABLES IN SCHEMA public TO %s' % user,
                    'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO %s'
                    % user]
        return ["CREATE USER '%s'@'%%' IDENTIFIED BY '%s'" % (user, password),
                "GRANT ALL ON %s.* TO '%s'@'%%'" % (database, user)]

    def _sql(self, *statements: str, database: str) -> None:
        engine = sa.create_engine(
            self._admin_url.set(database=database),
            isolation_level='AUTOCOMMIT', poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))

    def all(self) -> list[str]:
        return [self.rabbit_password, self.db_password, self.token]

    def remove(self) -> None:
        subprocess.run(['rabbitmqctl', '-q', 'delete_user',
                        self.rabbit_user], capture_output=True, timeout=60)
        if self._backend == 'postgresql':
            self._sql('DROP OWNED BY %s' % self.db_user,
                      'DROP ROLE IF EXISTS %s' % self.db_user,
                      database=self._database)
        else:
            self._sql("DROP USER IF EXISTS '%s'@'%%'" % self.db_user,
                      database=self._database)


def _output(script: str, *args: str) -> str:
    result = subprocess.run([fixtures.console_script(script), *args],
                            capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


@pytest.mark.parametrize('backend,use_json', [('postgresql', False),
                                              ('mysql', True)])
def test_no_secret_in_any_log_line_at_debug(deployment, rabbit_vhost,
                                            backend, use_json):
    deployed = deployment(backend=backend)
    secrets = Secrets(rabbit_vhost, backend, deployed.url)
    try:
        config = deployed.config(
            'secret.conf', debug=True, use_json=use_json,
            default_log_levels=VERBOSE_LIBRARIES,
            transport_url=secrets.transport_url,
            database__connection=secrets.db_url)
        worker = deployed.worker(config)
        worker.wait_consuming()
        volume_id = str(uuid.uuid4())
        deployed.publish([fixtures.oslo_envelope(fixtures.plain_cast_message(
            {'id': volume_id, 'size': 1}, user_id='u', project_id='p',
            auth_token=secrets.token, request_id='req-secret-1'))])
        fixtures.wait_until(lambda: deployed.volume_count() == 1,
                            what='the volume')
        assert worker.terminate() == 0
        outputs = {'worker': worker.log()}
        for command in (['service', 'list'], ['db', 'version']):
            outputs['manage ' + ' '.join(command)] = _output(
                'scheduler-worker-manage', '--config-file', config,
                '--debug', *command)
        outputs['status'] = _output(
            'scheduler-worker-status', '--config-file', config, '--debug',
            'upgrade', 'check')
    finally:
        secrets.remove()
    log = outputs['worker']
    # NOTE: the lines looked through are there: the option dump, the
    # libraries' connection lines, the cast.
    for line in ('database.connection', 'Connected to AMQP server',
                 'Start from server', 'req-secret-1'):
        assert line in log
    for name, text in outputs.items():
        for secret in secrets.all():
            assert secret not in text, '%s shows %s' % (name, secret)
