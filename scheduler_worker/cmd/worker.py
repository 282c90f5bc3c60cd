"""scheduler-worker: the daemon that turns create_volume casts into volumes."""

import sys

from oslo_log import log

from scheduler_worker import conf
from scheduler_worker import version


def main() -> None:
    conf.CONF(sys.argv[1:], project='scheduler-worker',
              version=version.version_info.version_string())
    log.setup(conf.CONF, 'scheduler-worker')
    # NOTE: imported once the configuration is parsed: the DB API facade
    # reads the [database] retry options when it is first imported.
    from oslo_service import service as oslo_service

    from scheduler_worker import service

    server = service.WorkerService(conf.CONF)
    launcher = oslo_service.launch(conf.CONF, server,
                                   workers=conf.CONF.workers,
                                   restart_method='mutate')
    sys.exit(launcher.wait())
