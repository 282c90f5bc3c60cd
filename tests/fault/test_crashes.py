"""Workers killed at any instant lose no cast and duplicate no outcome."""

import collections
import time

from scheduler_worker import notifications
from tests import fixtures
from tests.fault.conftest import mixed_casts

END = notifications.CREATE_END


def _drained(deployment, expected: int) -> bool:
    return (deployment.volume_count() >= expected and
            fixtures.queue_depth(deployment.vhost.amqp_url,
                                 deployment.topic) == 0 and
            deployment.rows('SELECT count(*) FROM scheduler_worker_outbox'
                            )[0][0] == 0)


def _assert_exactly_once(deployment, casts) -> None:
    names = collections.Counter(
        row.display_name for row in deployment.rows(
            'SELECT display_name FROM volumes'))
    assert sorted(names) == sorted(casts.names), 'lost or extra volumes'
    assert set(names.values()) == {1}, 'a cast created two volumes'
    stored = {row.id for row in deployment.rows('SELECT id FROM volumes')}
    assert set(casts.ids) <= stored
    # NOTE: capacity is claimed in the transaction that stores a volume:
    # once per volume, whatever was killed or restarted.
    assert deployment.rows(
        'SELECT allocated_gb FROM scheduler_worker_pools') == \
        deployment.rows('SELECT sum(size) FROM volumes')
    # NOTE: consumers deduplicate on message_id; after that, every volume
    # has exactly one end notification.
    notes = deployment.notifications.wait_for(END, len(stored), timeout=60)
    by_volume = collections.defaultdict(set)
    for note in notes:
        by_volume[note['payload']['volume_id']].add(
            note['metadata']['message_id'])
    assert set(by_volume) == stored
    assert {len(ids) for ids in by_volume.values()} == {1}


def test_kill9_while_draining_loses_nothing(deployment, rng):
    deployment = deployment()
    deployment.declare_queues()
    casts = mixed_casts(900, 'kill9')
    # NOTE: one body in ten published twice: a client's retried publish.
    duplicates = casts.bodies[::10]
    fixtures.publish_many(deployment.vhost.amqp_url, deployment.topic,
                          casts.bodies + duplicates)
    kills = []
    for _ in range(4):
        worker = deployment.worker('killed')
        worker.wait_consuming()
        # NOTE: the scenario: killed at a random instant of its work.
        time.sleep(rng.uniform(0.05, 1.0))
        worker.kill()
        kills.append(deployment.volume_count())
    survivor = deployment.worker('survivor')
    survivor.wait_consuming()
    fixtures.wait_until(lambda: _drained(deployment, len(casts.names)),
                        timeout=180, what='the queue to drain')
    assert survivor.terminate() == 0
    assert kills[0] < len(casts.names), (
        'the first kill came after the drain; nothing tested')
    _assert_exactly_once(deployment, casts)
