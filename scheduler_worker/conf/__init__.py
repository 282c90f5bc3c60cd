"""Configuration: the global CONF and our option groups, registered on demand.

Importing this package changes nothing: an API service imports rpcapi (and
so this package) into its own process, where options of the same names may
already exist (Cinder's ``[DEFAULT] host`` is one). The console scripts
register what they read (cmd/common.py), and set the libraries' defaults
(conf/libraries.py).
"""

from oslo_config import cfg

from scheduler_worker.conf import default
from scheduler_worker.conf import metrics
from scheduler_worker.conf import scheduler

CONF = cfg.CONF


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option group of scheduler-worker on ``conf``."""
    default.register_opts(conf)
    scheduler.register_opts(conf)
    metrics.register_opts(conf)
