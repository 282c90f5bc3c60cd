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
        'concurrency',
        default=16,
        min=1,
        max=1024,
        help='Casts handled at once by each worker process (handler '
             'threads; replaces [DEFAULT] executor_thread_pool_size for the '
             'scheduler topic). Unless set explicitly, RabbitMQ prefetch '
             '([oslo_messaging_rabbit] rabbit_qos_prefetch_count) is this '
             'many casts and the database pool ([database] max_pool_size) '
             'this plus 2 connections, with no overflow: size '
             'workers * (concurrency + 2) below the database\'s connection '
             'limit.'),
    cfg.IntOpt(
        'max_volume_size_gb',
        default=16384,
        min=1,
        help='Largest volume size, in GiB, that a create_volume cast may '
             'ask for. Larger requests end in status error with an ERROR '
             'notification.'),
    cfg.IntOpt(
        'max_message_bytes',
        default=1048576,
        min=1024,
        help='Largest cast body, in bytes, the worker handles. Larger '
             'messages are rejected as poison (logged, reported by an '
             'ERROR notification, dead-lettered if the queue has a '
             'dead-letter exchange).'),
    cfg.IntOpt(
        'outbox_relay_interval',
        default=10,
        min=1,
        help='Seconds between two passes of the notification relay, which '
             'publishes notifications that were committed but not yet '
             'confirmed by the broker (after a broker outage or a crash). '
             'Each pass takes those at least this old.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    # NOTE: a group of its own for each ConfigOpts: register_group() copies
    # the group shallowly, so ConfigOpts sharing one OptGroup object share
    # its options' values, overrides included.
    conf.register_group(cfg.OptGroup(scheduler_group.name,
                                     title=scheduler_group.title,
                                     help=scheduler_group.help))
    conf.register_opts(scheduler_opts, group=scheduler_group.name)


def list_opts() -> list:
    return [(scheduler_group, scheduler_opts)]
