"""Options of the [DEFAULT] group that belong to scheduler-worker."""

import socket

from oslo_config import cfg

default_opts = [
    cfg.HostDomainOpt(
        'host',
        default=socket.gethostname(),
        sample_default='localhost',
        help='Name of this worker. It names the RPC server queue '
             '(<topic>.<host>), the row in the services table and the '
             'publisher id of notifications (scheduler.<host>). It must be '
             'unique among the workers that share a database.'),
    cfg.StrOpt(
        'state_path',
        default='/var/lib/scheduler-worker',
        help='Directory where scheduler-worker keeps its state. The '
             'embedded SQLite database lives here unless '
             '[database] connection says otherwise.'),
    cfg.IntOpt(
        'report_interval',
        default=10,
        min=1,
        help='Seconds between two heartbeats of a worker in the services '
             'table.'),
    cfg.IntOpt(
        'service_down_time',
        default=60,
        min=1,
        help='Seconds without a heartbeat after which a worker is shown '
             'as down. Should be several times report_interval. In '
             'Cinder mode also what tells a live Cinder service from a '
             'dead one for POST /workers/cleanup: keep it equal to '
             'cinder.conf\'s service_down_time.'),
    cfg.IntOpt(
        'workers',
        default=1,
        min=1,
        max=256,
        help='Number of worker processes consuming the topic on this host. '
             'Each process runs [scheduler] concurrency handler threads.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(default_opts)


def list_opts() -> list:
    return [('DEFAULT', default_opts)]
