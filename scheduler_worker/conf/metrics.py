"""Options of the [metrics] group: the optional Prometheus endpoint."""

from oslo_config import cfg

metrics_group = cfg.OptGroup(
    'metrics',
    title='Metrics options',
    help='A Prometheus endpoint with the counters of casts received, '
         'succeeded, failed and redelivered, handling latency, casts in '
         'flight, database connections checked out and notifications '
         'pending. The master process serves it for all worker processes.')

metrics_opts = [
    cfg.BoolOpt(
        'enabled',
        default=False,
        help='Serve Prometheus metrics on bind_host:port at /metrics. '
             'The worker processes write their samples to a private '
             'temporary directory that the master creates at start and '
             'removes at exit.'),
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help='Address the metrics endpoint listens on. The endpoint has '
             'no authentication: keep it on a management network.'),
    cfg.PortOpt(
        'port',
        default=9465,
        help='TCP port of the metrics endpoint. Each worker host (master '
             'process) needs its own.'),
    cfg.IntOpt(
        'sample_interval',
        default=10,
        min=1,
        max=3600,
        help='Seconds between two samples of the values that need a look '
             '(database connections checked out, notifications pending in '
             'the outbox). Counters and latencies are recorded as casts '
             'are handled.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(metrics_group)
    conf.register_opts(metrics_opts, group=metrics_group)


def list_opts() -> list:
    return [(metrics_group, metrics_opts)]
