"""Two worker processes relay one backlog: each notification goes out once.

Real ``scheduler-worker`` processes, RabbitMQ and PostgreSQL. Notifications
are counted on a queue of the test's own, bound to the notification topic
and read with kombu: oslo.messaging's listener drops a message whose
``_unique_id`` it saw recently, which would hide the very duplicates this
test looks for.
"""

import collections
import contextlib
import json
import os
import re
import signal
import sys
import time
import types
import uuid

import kombu
from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from scheduler_worker import notifications
from scheduler_worker import publisher
from scheduler_worker.db.sqlalchemy import models
from tests import fixtures

pytestmark = pytest.mark.fault

CASTS = 3000
PROBES = 5
REFUSE = 'sw-test-refuse-notifications'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class _Audit:
    """A queue bound to the notification topic, read raw."""

    def __init__(self, vhost: fixtures.RabbitVhost, routing_key: str) -> None:
        self.url = vhost.amqp_url
        self.name = fixtures.unique_name('sw-audit')
        with kombu.Connection(self.url) as conn:
            kombu.Queue(self.name, kombu.Exchange('openstack', 'topic',
                                                  durable=False),
                        routing_key=routing_key)(conn.default_channel).declare()

    def depth(self) -> int:
        return fixtures.queue_depth(self.url, self.name)

    def drain(self) -> list[dict]:
        """Take every message waiting; return each one's oslo.message."""
        taken = []
        with kombu.Connection(self.url) as conn:
            while (message := conn.default_channel.basic_get(
                    self.name, no_ack=True)) is not None:
                taken.append(json.loads(json.loads(message.body)[
                    'oslo.message']))
        return taken


@pytest.fixture
def cluster(tmp_path):
    """A deployment of its own vhost (its policies touch no one else)."""
    vhost = fixtures.RabbitVhost()
    deployed = fixtures.Deployment(tmp_path, vhost)
    try:
        yield deployed
    finally:
        deployed.close()
        vhost.delete()


def _worker(deployed, host: str, env=None) -> fixtures.WorkerProcess:
    # NOTE: relays every second, and failed rows back off two seconds at
    # most: the backlog moves between the processes quickly. Run through
    # relay_pause, which pauses only when told to, and dumps the stacks
    # of its threads on SIGUSR1 (see _waiting).
    return deployed.worker(deployed.config(
        '%s.conf' % host, host=host, scheduler__outbox_relay_interval=1,
        scheduler__outbox_retry_max_delay=2), prefix=[
            sys.executable, '-m', 'tests.fault.relay_pause'],
        env=dict(env or {}, PYTHONPATH=ROOT))


def _waiting(deployed, predicate, timeout: float, what: str):
    """wait_until(); on a timeout, say where the outbox and workers are."""
    try:
        return fixtures.wait_until(predicate, timeout=timeout, what=what)
    except AssertionError as exc:
        for worker in deployed.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.process.pid, signal.SIGUSR1)
        time.sleep(2)
        rows = _outbox(deployed)
        lines = ['%s; %d outbox rows, attempts %s, next attempt %s..%s, '
                 'now %s' % (exc, len(rows), sorted(collections.Counter(
                     row.attempts for row in rows).items()),
                     min((row.next_attempt_at for row in rows), default=None),
                     max((row.next_attempt_at for row in rows), default=None),
                     timeutils.utcnow())]
        for worker in deployed.workers:
            log = [line for line in worker.log().splitlines()
                   if 'Created volume' not in line]
            lines += ['--- %s (last %d lines but volumes created):' % (
                worker.log_path, min(len(log), 150))] + log[-150:]
        raise AssertionError('\n'.join(lines)) from exc


def _outbox(deployed) -> list:
    return deployed.rows('SELECT id, attempts, next_attempt_at FROM '
                         'scheduler_worker_outbox')


def _remaining(deployed) -> set[str]:
    return {row.id for row in _outbox(deployed)}


def _probes(deployed, topic: str) -> types.SimpleNamespace:
    """Notifications due now, stored behind the held ones."""
    now = timeutils.utcnow()
    rows, message_ids = [], []
    for i in range(PROBES):
        message_ids.append(str(uuid.uuid4()))
        rows.append({
            'id': str(uuid.uuid4()), 'kind': publisher.NOTIFICATION,
            'exchange': 'openstack', 'topic': topic, 'server': None,
            'body': publisher.wire_body({}, {
                'message_id': message_ids[-1], 'publisher_id': 'test',
                'event_type': 'test.probe', 'priority': 'INFO',
                'payload': {'i': i}, 'timestamp': str(now)}, 2.0),
            'created_at': now, 'attempts': 0, 'next_attempt_at': now})
    with deployed.engine.begin() as connection:
        connection.execute(sa.insert(models.OutboxMessage.__table__), rows)
    return types.SimpleNamespace(ids={r['id'] for r in rows}, due=now,
                                 message_ids=message_ids)


def _process_state(pid: int) -> str:
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


def _backlog(deployed, audit, topic: str) -> None:
    """3,000 volumes stored while the broker refuses every notification."""
    fixtures.set_queue_policy(
        deployed.vhost.name, REFUSE,
        '^(%s|%s)$' % (re.escape(topic), re.escape(audit.name)),
        {'max-length': 0, 'overflow': 'reject-publish'})
    deployed.publish(fixtures.plain_casts(CASTS, 'relays'))
    _waiting(
        deployed, lambda: deployed.volume_count() == CASTS and
        deployed.queue_depth() == 0 and
        all(row.attempts > 0 for row in _outbox(deployed)),
        timeout=240, what='every cast stored, every publish refused')
    assert len(_outbox(deployed)) == CASTS
    assert audit.depth() == 0


@pytest.mark.parametrize('resume', ['sigcont', 'sigkill'])
def test_a_relay_paused_mid_publish_keeps_its_rows_from_the_other(
        cluster, tmp_path, resume):
    topic = cluster.sections['oslo_messaging_notifications']['topics'] + \
        '.info'
    audit = _Audit(cluster.vhost, topic)
    armed = str(tmp_path / 'pause-relay')
    paused = _worker(cluster, 'relay-a', env={'SW_TEST_RELAY_PAUSE': armed})
    other = _worker(cluster, 'relay-b')
    paused.wait_consuming()
    other.wait_consuming()
    _backlog(cluster, audit, topic)

    # NOTE: the next relay pass of relay-a that claims rows stops its
    # process between claim and publish, and says what it holds.
    open(armed, 'w').close()
    held = _waiting(
        cluster, lambda: os.path.exists(armed + '.held') and json.load(
            open(armed + '.held')), timeout=60, what='relay-a to pause')
    assert held['ids']
    # NOTE: the relay writes what it holds, then stops itself: the file
    # may be read in between.
    _waiting(cluster, lambda: _process_state(held['pid']) == 'T',
             timeout=30, what='relay-a to be stopped')
    fixtures.clear_policy(cluster.vhost.name, REFUSE)

    # NOTE: relay-b sends everything else, then probes stored after the
    # held rows came due: passes that scanned the held rows and left them.
    _waiting(cluster, lambda: _remaining(cluster) <= set(held['ids']),
             timeout=180, what='relay-b to send the rest')
    probes = _probes(cluster, topic)
    assert max(row.next_attempt_at for row in _outbox(cluster)) <= \
        probes.due
    _waiting(cluster, lambda: not _remaining(cluster) & probes.ids,
             timeout=60, what='relay-b to send the probes')
    assert _remaining(cluster) == set(held['ids']), (
        'relay-b sent rows relay-a holds')
    assert _process_state(held['pid']) == 'T'
    while_paused = audit.drain()
    assert len(while_paused) == CASTS - len(held['ids']) + PROBES
    assert not {n['message_id'] for n in while_paused} & set(
        held['message_ids'])

    os.kill(held['pid'], signal.SIGCONT if resume == 'sigcont' else
            signal.SIGKILL)
    _waiting(cluster, lambda: not _outbox(cluster), timeout=180,
             what='the held rows to be sent')
    after = audit.drain()
    assert sorted(n['message_id'] for n in after) == sorted(
        held['message_ids'])

    notes = while_paused + after
    assert set(collections.Counter(
        n['message_id'] for n in notes).values()) == {1}
    ends = collections.Counter(n['payload']['volume_id'] for n in notes
                               if n['event_type'] == notifications.CREATE_END)
    assert set(ends.values()) == {1}
    assert set(ends) == {row.id for row in cluster.rows(
        'SELECT id FROM volumes')}
    assert len(ends) == CASTS
    assert sorted(n['message_id'] for n in notes
                  if n['event_type'] == 'test.probe') == sorted(
                      probes.message_ids)
    assert paused.terminate() == 0
    assert other.terminate() == 0


def test_two_workers_send_one_notification_per_volume(cluster):
    """The everyday path: handlers publish after their commits while both
    relays run every second; nothing is refused, nothing paused."""
    topic = cluster.sections['oslo_messaging_notifications']['topics'] + \
        '.info'
    audit = _Audit(cluster.vhost, topic)
    workers = [_worker(cluster, host) for host in ('relay-a', 'relay-b')]
    for worker in workers:
        worker.wait_consuming()
    cluster.publish(fixtures.plain_casts(CASTS, 'steady'))
    _waiting(
        cluster, lambda: cluster.volume_count() == CASTS and
        not _outbox(cluster) and audit.depth() >= CASTS, timeout=240,
        what='every volume stored and notified')
    notes = audit.drain()
    assert len(notes) == CASTS
    assert len({n['message_id'] for n in notes}) == CASTS
    volumes = {n['payload']['volume_id'] for n in notes}
    assert volumes == {row.id for row in cluster.rows(
        'SELECT id FROM volumes')}
    # NOTE: both processes handled casts.
    assert {n['publisher_id'] for n in notes} == {
        'scheduler.relay-a', 'scheduler.relay-b'}
    for worker in workers:
        assert worker.terminate() == 0
