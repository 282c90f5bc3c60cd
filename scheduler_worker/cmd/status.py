"""scheduler-worker-status: is this deployment fit to run? (upgrade check)

    scheduler-worker-status [--config-file FILE] upgrade check [--json]

Exit status, as every OpenStack ``*-status upgrade check``: 0 all checks
passed, 1 a warning, 2 a failure, 255 the command itself broke. Checks: the
database schema is at this code's newest revision, RabbitMQ accepts a
connection, and at least one worker is up (a heartbeat within
``service_down_time``).
"""

import sys

import oslo_messaging
from oslo_messaging._drivers import common as driver_common
from oslo_upgradecheck import upgradecheck

from scheduler_worker import conf
from scheduler_worker.cmd import common

CONF = conf.CONF
Code = upgradecheck.Code
Result = upgradecheck.Result
BINARY = 'scheduler-worker'
# NOTE: in Cinder mode the worker's services row is cinder-scheduler's.
CINDER_BINARY = 'cinder-scheduler'


def _failure(what: str, exc: Exception) -> Result:
    # NOTE: the exception's class and message, never the URL: it may
    # carry a password.
    return Result(Code.FAILURE, '%s: %s: %s' % (what, type(exc).__name__,
                                                 exc))


class Checks(upgradecheck.UpgradeCommands):
    """What a worker needs: its schema, its broker, and workers up."""

    def _check_schema(self) -> Result:
        from scheduler_worker.db import api as db
        from scheduler_worker.db import migration
        cinder = db.is_cinder(CONF)
        try:
            current = migration.db_version(cinder=cinder)
        except Exception as exc:
            return _failure('The database does not answer', exc)
        head = migration.head_version(cinder=cinder)
        if current != head:
            return Result(Code.FAILURE, (
                'The database schema is at revision %s; this code needs %s. '
                'Run "scheduler-worker-manage db sync".') % (current, head))
        return Result(Code.SUCCESS, 'Schema at revision %s.' % head)

    def _check_broker(self) -> Result:
        transport = oslo_messaging.get_rpc_transport(CONF)
        try:
            # NOTE: the driver's own connection (TLS, heartbeats, every
            # host of the URL), given up after one retry.
            with transport._driver._get_connection(
                    driver_common.PURPOSE_SEND, retry=1):
                pass
        except Exception as exc:
            return _failure('RabbitMQ does not accept a connection', exc)
        finally:
            transport.cleanup()
        return Result(Code.SUCCESS, 'RabbitMQ accepts connections.')

    def _check_workers(self) -> Result:
        from scheduler_worker import context
        from scheduler_worker import objects
        from scheduler_worker.db import api as db
        binary = CINDER_BINARY if db.is_cinder(CONF) else BINARY
        try:
            services = objects.ServiceList.get_all(
                context.get_admin_context(), binary)
        except Exception as exc:
            return _failure('Cannot read the services table', exc)
        up = sorted(s.host for s in services
                    if not s.disabled and s.is_up(CONF.service_down_time))
        if not up:
            return Result(Code.FAILURE, (
                'No %s is up: none sent a heartbeat in the last %d seconds '
                '(service_down_time). Casts wait in RabbitMQ until one '
                'runs.') % (binary, CONF.service_down_time))
        return Result(Code.SUCCESS, 'Up: %s.' % ', '.join(up))

    _upgrade_checks = (
        ('Database schema', _check_schema),
        ('RabbitMQ', _check_broker),
        ('Workers up', _check_workers),
    )


def main() -> None:
    # NOTE: upgradecheck.main parses the configuration itself.
    common.register_options(CONF)
    sys.exit(upgradecheck.main(CONF, project='scheduler-worker',
                               upgrade_command=Checks()))
