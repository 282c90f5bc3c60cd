"""Options of the [scheduler] group: what the worker consumes and accepts."""

from oslo_config import cfg

scheduler_group = cfg.OptGroup(
    'scheduler',
    title='Scheduler options',
    help='The RPC topic the worker consumes and the limits it enforces on '
         'create_volume casts.')

scheduler_opts = [
    cfg.StrOpt(
        'topic',
        default='scheduler-worker',
        regex=r'^[A-Za-z0-9_.-]+$',
        help='RPC topic consumed by the worker, on the exchange '
             '[DEFAULT] control_exchange. API services cast create_volume '
             'to this topic. Set it to "cinder-scheduler" to take the '
             'place of cinder-scheduler for an unmodified cinder-api.'),
    cfg.IntOpt(
        'max_volume_size_gb',
        default=16384,
        min=1,
        help='Largest volume size, in GiB, that a create_volume cast may '
             'ask for. Larger requests end in status error with an ERROR '
             'notification.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(scheduler_group)
    conf.register_opts(scheduler_opts, group=scheduler_group)


def list_opts() -> list:
    return [(scheduler_group, scheduler_opts)]
