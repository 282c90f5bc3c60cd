"""scheduler-worker: the daemon that turns create_volume casts into volumes."""

import sys

from scheduler_worker import conf
from scheduler_worker import foreground
from scheduler_worker import metrics
from scheduler_worker import systemd
from scheduler_worker.cmd import common


def main() -> None:
    common.setup('scheduler-worker')
    # NOTE: before the launcher runs: with NOTIFY_SOCKET in the
    # environment, its master would say READY=1 at once (see systemd.py).
    notifier = systemd.Notifier.from_environment()
    # NOTE: imported once the configuration is parsed: the DB API facade
    # reads the [database] retry options when it is first imported.
    from oslo_service import service as oslo_service

    from scheduler_worker import service

    exporter = metrics.Exporter(conf.CONF)
    # NOTE: before the launcher, which leaves the terminal unless this
    # process leads the terminal's foreground group.
    with foreground.hold_terminal():
        try:
            if conf.CONF.metrics.enabled:
                # NOTE: before the launcher forks: the workers find the
                # directory for their samples in the environment.
                exporter.start()
            server = service.WorkerService(conf.CONF, notifier=notifier)
            launcher = oslo_service.launch(conf.CONF, server,
                                           workers=conf.CONF.workers,
                                           restart_method='mutate')
            systemd.stop_signals_from(launcher, notifier)
            foreground.stop_on_interrupt(launcher)
            status = launcher.wait()
        finally:
            exporter.stop()
    sys.exit(status)
