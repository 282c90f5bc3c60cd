"""The options of scheduler-worker, listed for oslo-config-generator."""

from scheduler_worker.conf import default
from scheduler_worker.conf import metrics
from scheduler_worker.conf import scheduler

# NOTE: listed explicitly rather than discovered, so that a new option module
# is a visible one-line change here.
_MODULES = (default, scheduler, metrics)


def list_opts() -> list:
    """Entry point for oslo-config-generator (namespace scheduler_worker)."""
    opts = []
    for module in _MODULES:
        opts.extend(module.list_opts())
    return opts
