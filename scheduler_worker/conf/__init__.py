"""Configuration: the global CONF, our option groups and library defaults."""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
import oslo_messaging
from oslo_messaging import transport as msg_transport
from oslo_messaging.notify import notifier as msg_notifier

from scheduler_worker.conf import default
from scheduler_worker.conf import metrics
from scheduler_worker.conf import scheduler

CONF = cfg.CONF

DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
DEFAULT_DB_CONNECTION = 'sqlite:///$state_path/scheduler_worker.sqlite'

_EXTRA_LOG_LEVELS = ['amqp=WARN', 'kombu=WARN', 'alembic=WARN',
                     'cotyledon=INFO', 'futurist=INFO']


def set_lib_defaults() -> None:
    """Give library options the defaults this service documents.

    Registered as the oslo.config.opts.defaults hook, so that the sample
    configuration shows the same defaults the running worker uses.
    """
    # NOTE: defaults are changed on the libraries' option lists (rather
    # than with CONF.set_default) so that oslo-config-generator sees them as
    # well as the running service. oslo.messaging has no public setter for
    # its two, hence the private option lists.
    cfg.set_defaults(db_options.database_opts,
                     connection=DEFAULT_DB_CONNECTION, use_db_reconnect=True)
    db_options.set_defaults(CONF)
    cfg.set_defaults(msg_transport._transport_opts,
                     transport_url=DEFAULT_TRANSPORT_URL)
    cfg.set_defaults(msg_notifier._notifier_opts, driver=['messagingv2'])
    oslo_messaging.set_transport_defaults(control_exchange='openstack')
    log.set_defaults(
        default_log_levels=log.get_default_log_levels() + _EXTRA_LOG_LEVELS)


def register_opts(conf: cfg.ConfigOpts) -> None:
    default.register_opts(conf)
    scheduler.register_opts(conf)
    metrics.register_opts(conf)


register_opts(CONF)
log.register_options(CONF)
set_lib_defaults()
