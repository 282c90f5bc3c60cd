"""Options of the [scheduler] group: what the worker consumes and accepts."""

from oslo_config import cfg

scheduler_group = cfg.OptGroup(
    'scheduler',
    title='Scheduler options',
    help='The RPC topic the worker consumes, the limits it enforces on '
         'create_volume casts, and how it chooses a backend for a volume.')

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
        default=2,
        min=1,
        max=1024,
        help='Handler threads of each worker process, each taking a batch '
             'of casts at a time (replaces [DEFAULT] '
             'executor_thread_pool_size for the scheduler topic). More '
             'threads mostly contend for the interpreter lock: use more '
             'processes ([DEFAULT] workers) instead. Unless set '
             'explicitly, RabbitMQ prefetch '
             '([oslo_messaging_rabbit] rabbit_qos_prefetch_count) is this '
             'many batches plus one read ahead ((concurrency + 1) * '
             'batch_size casts) and the '
             'database pool ([database] max_pool_size) this plus 2 '
             'connections, with no overflow: size workers * (concurrency + '
             '2) below the database\'s connection limit.'),
    cfg.IntOpt(
        'batch_size',
        default=64,
        min=1,
        max=1000,
        help='Casts a handler thread takes from RabbitMQ at once. The '
             'create_volume casts among them are stored in one '
             'transaction and their notifications published together; '
             'each cast is still acknowledged only once its outcome is '
             'committed. 1 handles every cast on its own.'),
    cfg.IntOpt(
        'batch_window_ms',
        default=5,
        min=0,
        max=1000,
        help='Longest, in milliseconds, a handler thread keeps reading '
             'casts that are already arriving into its batch. A batch '
             'forms only from casts already on their way: a cast alone in '
             'the queue is handled at once, never held back for company.'),
    cfg.FloatOpt(
        'pool_cache_seconds',
        default=1.0,
        min=0,
        max=60,
        help='Longest, in seconds, that placing volumes works from the '
             'pools read before, plus what this process claimed since, '
             'rather than reading them for each batch. The claim in the '
             'transaction that stores a batch is what guards capacity: '
             'a claim that finds the room gone reads the pools again, as '
             'does a capability report this process receives. 0 reads '
             'them for every batch.'),
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
    cfg.BoolOpt(
        'dead_letter_policy',
        default=False,
        help='Whether a RabbitMQ policy gives the topic queue a '
             'dead-letter exchange (see doc/delivery.md), where the broker '
             'keeps the casts the worker rejects as poison. The worker '
             'cannot see policies over AMQP, so it relies on this. When '
             'false, a rejected cast is dropped by the broker, and the '
             'worker first logs it whole (tokens and passwords masked, at '
             'most max_message_bytes characters).'),
    cfg.IntOpt(
        'outbox_relay_interval',
        default=10,
        min=1,
        max=3600,
        help='Seconds between two passes of the outbox relay, which sends '
             'the notifications that were committed but not confirmed by '
             'the broker (after a broker outage, a refusal or a crash). A '
             'new notification is left to the handler that committed it '
             'for this long before a relay may take it; after a failed '
             'publish it waits this long, then twice as long after each '
             'further failure, up to outbox_retry_max_delay. Each row is '
             'sent by one worker process at a time, whatever the number '
             'of processes and hosts.'),
    cfg.IntOpt(
        'outbox_retry_max_delay',
        default=300,
        min=1,
        max=86400,
        help='Longest wait, in seconds, between two attempts to publish '
             'the same notification: during a long broker outage each '
             'pending notification is tried about once this often.'),
    cfg.IntOpt(
        'outbox_max_attempts',
        default=0,
        min=0,
        max=1000000,
        help='Failed publish attempts after which a notification is given '
             'up: logged whole at ERROR (secrets masked), counted by the '
             'scheduler_worker_outbox_dropped_total metric, and deleted. 0 '
             '(the default) never gives up: a notification waits as long '
             'as the broker refuses it, tried once every '
             'outbox_retry_max_delay seconds. Any other value drops '
             'notifications after an outage of about outbox_max_attempts * '
             'outbox_retry_max_delay seconds.'),
]

# NOTE: the hand-off to volume services and what Cinder's scheduler does
# besides placing (scheduler_max_attempts, scheduler_driver_init_wait_time,
# message_reap_interval, reservation_clean_interval in Cinder).
cinder_opts = [
    cfg.BoolOpt(
        'hand_off',
        default=False,
        help='Standalone mode: after placing a volume, cast create_volume '
             '(RPC API 3.0) to its volume service, topic '
             '"cinder-volume.<host@backend>" and server "<host>", as '
             'Cinder\'s scheduler does, from the transactional outbox. In '
             'Cinder mode ([database] backend = cinder) the hand-off is '
             'always on and this option is ignored.'),
    cfg.IntOpt(
        'max_attempts',
        default=3,
        min=1,
        max=100,
        help='Attempts to schedule a volume, the first included (Cinder\'s '
             'scheduler_max_attempts). A volume service that fails to '
             'create a volume casts it back, and it is placed again on a '
             'backend not tried yet; past this many attempts it ends in '
             'error. 1 sends no "retry" with the hand-off, so volume '
             'services do not reschedule.'),
    cfg.IntOpt(
        'driver_init_wait_time',
        default=60,
        min=0,
        max=3600,
        help='Cinder mode: seconds the worker waits at start, after asking '
             'every volume and backup service for its capabilities, for '
             'a first report before it places volumes or snapshots '
             '(Cinder\'s scheduler_driver_init_wait_time). Casts are '
             'received meanwhile and wait.'),
    cfg.IntOpt(
        'message_reap_interval',
        default=86400,
        min=1,
        help='Cinder mode: seconds between two deletions of expired user '
             'messages from Cinder\'s messages table (Cinder\'s '
             'message_reap_interval); the first runs at start.'),
    cfg.IntOpt(
        'reservation_clean_interval',
        default=86400,
        min=1,
        help='Cinder mode: seconds between two roll-backs of expired quota '
             'reservations (Cinder\'s reservation_clean_interval); the '
             'first runs at start.'),
]

# NOTE: how a backend is chosen. Names and defaults follow Cinder's
# scheduler options (scheduler_default_filters, capacity_weight_multiplier,
# ...), in this group rather than [DEFAULT].
placement_opts = [
    cfg.ListOpt(
        'default_filters',
        default=['AvailabilityZoneFilter', 'CapacityFilter',
                 'CapabilitiesFilter'],
        help='Filters a pool must pass to receive a volume, in this order. '
             'Names of entry points in the namespace '
             'scheduler_worker.scheduler.filters: AvailabilityZoneFilter, '
             'CapacityFilter, CapabilitiesFilter. An unknown name stops '
             'the worker at start-up.'),
    cfg.ListOpt(
        'default_weighers',
        default=['CapacityWeigher'],
        help='Weighers that order the pools which passed the filters; the '
             'volume goes to the heaviest pool that still has room. Names '
             'of entry points in the namespace '
             'scheduler_worker.scheduler.weighers: CapacityWeigher, '
             'VolumeNumberWeigher.'),
    cfg.FloatOpt(
        'capacity_weight_multiplier',
        default=1.0,
        help='Multiplier of the CapacityWeigher. Positive values spread '
             'volumes over the pools with the most free capacity (thin '
             'pools count their over-subscribed capacity), negative values '
             'stack them on the fullest pools.'),
    cfg.FloatOpt(
        'volume_number_multiplier',
        default=-1.0,
        help='Multiplier of the VolumeNumberWeigher. Negative values '
             'prefer pools holding fewer volumes (spreading), positive '
             'values prefer pools holding more.'),
    cfg.IntOpt(
        'backend_down_time',
        default=180,
        min=1,
        help='Seconds without a capability report after which a backend '
             'is down and receives no volumes. Cinder volume services '
             'report every [DEFAULT] periodic_interval (60 seconds by '
             'default): keep this a few times longer. Backends registered '
             'with "scheduler-worker-manage backend register" never go '
             'down.'),
    cfg.StrOpt(
        'default_availability_zone',
        default='nova',
        help='Availability zone of the pools whose capability report does '
             'not name one. Cinder takes the zone of a volume service from '
             'its storage_availability_zone option, which is not part of '
             'the report: set this to the same value, or have the backend '
             'report an "availability_zone" capability (per pool or for '
             'the whole backend).'),
    cfg.StrOpt(
        'max_over_subscription_ratio',
        default='20.0',
        regex=r'^(auto|\d*\.\d+|\d+)$',
        help='Over-subscription ratio of thin pools whose report does not '
             'give one: a float, or "auto" to derive it from the reported '
             'provisioned and used capacity, as Cinder does.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    # NOTE: a group of its own for each ConfigOpts: register_group() copies
    # the group shallowly, so ConfigOpts sharing one OptGroup object share
    # its options' values, overrides included.
    conf.register_group(cfg.OptGroup(scheduler_group.name,
                                     title=scheduler_group.title,
                                     help=scheduler_group.help))
    conf.register_opts(scheduler_opts, group=scheduler_group.name)
    conf.register_opts(placement_opts, group=scheduler_group.name)
    conf.register_opts(cinder_opts, group=scheduler_group.name)


def list_opts() -> list:
    return [(scheduler_group, scheduler_opts + placement_opts + cinder_opts)]
