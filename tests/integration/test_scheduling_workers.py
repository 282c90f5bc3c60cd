"""Two worker processes share pools that volume services report by fanout.

Everything real: the ``scheduler-worker`` console script twice (two hosts,
one topic, one PostgreSQL database), capability reports cast as Cinder's
SchedulerAPI casts them, volumes cast through rpcapi, notifications read
from the broker.
"""

import threading
import types

import oslo_messaging
import pytest
import sqlalchemy as sa

from scheduler_worker import context
from scheduler_worker import notifications
from scheduler_worker import rpcapi
from tests import fixtures

END = notifications.CREATE_END
ERROR = notifications.CREATE_ERROR
HOSTS = ('sched-a', 'sched-b')
# NOTE: 150 GiB in all: a thick pool, and a thin one at ratio 1.0 sent as
# a string, as Cinder drivers do.
REPORTS = {
    'hostA@lvm': fixtures.lvm_capabilities(fixtures.lvm_pool('lvm', 100)),
    'hostB@lvm': fixtures.lvm_capabilities(fixtures.lvm_pool(
        'thin', 50, thin_provisioning_support=True,
        thick_provisioning_support=False,
        max_over_subscription_ratio='1.0')),
}
CAPACITY = {'hostA@lvm#lvm': 100, 'hostB@lvm#thin': 50}


@pytest.fixture
def cluster(tmp_path, rabbit_vhost):
    url = fixtures.create_database('postgresql', tmp_path)
    topic = fixtures.unique_name('sw-sched')
    notification_topic = fixtures.unique_name('sw-sched-notifications')
    configs = [fixtures.write_config(tmp_path / ('%s.conf' % host), {
        'DEFAULT': {'transport_url': rabbit_vhost.transport_url,
                    'host': host, 'state_path': tmp_path},
        'scheduler': {'topic': topic},
        'database': {'connection': url},
        'oslo_messaging_notifications': {'topics': notification_topic},
    }) for host in HOSTS]
    fixtures.manage(configs[0], 'db', 'sync')
    conf = fixtures.make_conf(
        transport_url=rabbit_vhost.transport_url, scheduler__topic=topic,
        oslo_messaging_notifications__topics=[notification_topic])
    transport = oslo_messaging.get_rpc_transport(conf)
    notification_transport = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(notification_transport,
                                           notification_topic)
    workers = [fixtures.WorkerProcess(config, tmp_path / ('%s.log' % host))
               for config, host in zip(configs, HOSTS, strict=True)]
    engine = sa.create_engine(url)
    try:
        for worker in workers:
            worker.start()
        yield types.SimpleNamespace(
            workers=workers, configs=configs, topic=topic, capture=capture,
            transport=transport, engine=engine,
            api=rpcapi.SchedulerAPI(conf, transport=transport))
    finally:
        for worker in workers:
            worker.kill()
        capture.stop()
        transport.cleanup()
        notification_transport.cleanup()
        engine.dispose()
        fixtures.drop_database(url)


def _rows(engine, sql, **params):
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def _volumes(engine, volume_ids):
    query = sa.text('SELECT * FROM volumes WHERE id IN :ids').bindparams(
        sa.bindparam('ids', expanding=True))
    with engine.connect() as connection:
        return {row.id: row for row in connection.execute(
            query, {'ids': volume_ids})}


def _report_all(cluster):
    for host, capabilities in REPORTS.items():
        fixtures.cast_capabilities(cluster.transport, cluster.topic, host,
                                   capabilities)


class _Reporter(threading.Thread):
    """Volume services that keep reporting the same free capacity."""

    def __init__(self, cluster) -> None:
        super().__init__(daemon=True)
        self.cluster, self.stopped, self.sent = cluster, threading.Event(), 0

    def run(self) -> None:
        while True:
            _report_all(self.cluster)
            self.sent += 1
            if self.stopped.wait(0.1):
                return


def test_two_workers_place_30_of_40_volumes_in_150_gib(cluster):
    for worker in cluster.workers:
        worker.wait_consuming()
    _report_all(cluster)
    fixtures.wait_until(lambda: len(_rows(
        cluster.engine, 'SELECT id FROM scheduler_worker_pools')) == 2,
        what='both pools')
    reporter = _Reporter(cluster)
    reporter.start()
    ctxt = context.RequestContext('user-1', 'project-1')
    try:
        volume_ids = [cluster.api.create_volume(
            ctxt, {'size': 5, 'display_name': 'v%02d' % i})
            for i in range(40)]
        placed = cluster.capture.wait_for(END, 30, timeout=120)
        refused = cluster.capture.wait_for(ERROR, 10, timeout=120)
    finally:
        reporter.stopped.set()
        reporter.join(30)
    assert reporter.sent > 0

    rows = _volumes(cluster.engine, volume_ids)
    assert len(rows) == 40
    scheduled = [r for r in rows.values() if r.status == 'creating']
    errors = [r for r in rows.values() if r.status == 'error']
    assert (len(scheduled), len(errors)) == (30, 10)
    assert all(r.host in CAPACITY and r.availability_zone == 'nova' and
               r.scheduled_at is not None for r in scheduled)
    assert all(r.host is None for r in errors)
    used = {host: sum(r.size for r in scheduled if r.host == host)
            for host in CAPACITY}
    assert used == CAPACITY
    assert dict(_rows(cluster.engine, 'SELECT host, allocated_gb FROM '
                      'scheduler_worker_pools')) == CAPACITY

    assert sorted(n['payload']['volume_id'] for n in placed) == sorted(
        r.id for r in scheduled)
    assert sorted(n['payload']['volume_id'] for n in refused) == sorted(
        r.id for r in errors)
    for note in refused:
        assert note['payload']['reason'].startswith(
            "NoValidBackend('No valid backend was found. No backend has 5 "
            "GiB of free capacity left")
    # NOTE: both workers took part.
    assert {n['publisher_id'] for n in placed + refused} == {
        'scheduler.%s' % host for host in HOSTS}

    unknown_zone = cluster.api.create_volume(
        ctxt, {'size': 1, 'availability_zone': 'az9'})
    [note] = [n for n in cluster.capture.wait_for(ERROR, 11)
              if n['payload']['volume_id'] == unknown_zone]
    assert note['payload']['reason'] == (
        "NoValidBackend('No valid backend was found. No backend in "
        "availability zone \"az9\" (known zones: nova)')")
    assert _rows(cluster.engine, 'SELECT status FROM volumes WHERE id = '
                 ':id', id=unknown_zone) == [('error',)]

    # NOTE: pool, zone, state, total, free, claimed, limit, thin limit.
    listing = {line.split()[0]: line.split()[1:8] for line in fixtures.manage(
        cluster.configs[0], 'backend', 'list').splitlines()[1:]}
    assert listing == {
        'hostA@lvm#lvm': ['nova', 'up', '100', '100', '100', '100', '100'],
        'hostB@lvm#thin': ['nova', 'up', '50', '50', '50', '50', '50']}
    shown = fixtures.manage(cluster.configs[1], 'backend', 'show',
                            'hostB@lvm#thin')
    assert 'Pool hostB@lvm#thin' in shown
    assert 'max_over_subscription_ratio  1.0' in shown
    for worker in cluster.workers:
        assert worker.terminate() == 0
