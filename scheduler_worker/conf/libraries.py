"""What scheduler-worker takes from oslo.db, oslo.messaging and oslo.log."""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
import oslo_messaging
from oslo_messaging import transport as msg_transport
from oslo_messaging.notify import notifier as msg_notifier

DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
DEFAULT_DB_CONNECTION = 'sqlite:///$state_path/scheduler_worker.sqlite'

# NOTE: beyond oslo.log's own (which has amqp=WARN).
_EXTRA_LOG_LEVELS = ['kombu=WARN', 'alembic=WARN',
                     'cotyledon=INFO', 'futurist=INFO']


def set_defaults() -> None:
    """Give library options the defaults this service documents.

    For the whole process: the console scripts call it before they parse
    the configuration, oslo-config-generator through the
    oslo.config.opts.defaults hook (so the sample shows what the worker
    uses), and the tests' conftest. Never at import.
    """
    # NOTE: defaults are changed on the libraries' option lists (rather
    # than with CONF.set_default) so that oslo-config-generator sees them as
    # well as the running service. oslo.messaging has no public setter for
    # its two, hence the private option lists.
    cfg.set_defaults(db_options.database_opts,
                     connection=DEFAULT_DB_CONNECTION, use_db_reconnect=True)
    cfg.set_defaults(msg_transport._transport_opts,
                     transport_url=DEFAULT_TRANSPORT_URL)
    cfg.set_defaults(msg_notifier._notifier_opts, driver=['messagingv2'])
    oslo_messaging.set_transport_defaults(control_exchange='openstack')
    levels = log.get_default_log_levels()
    # NOTE: once only, however often this is called.
    log.set_defaults(default_log_levels=levels + [
        level for level in _EXTRA_LOG_LEVELS if level not in levels])


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.log's and oslo.db's options on ``conf``."""
    log.register_options(conf)
    db_options.set_defaults(conf)
