"""200 volumes through REST while the scheduler slot is kill -9-ed 3 times.

What became of each volume is the figure: reported for a scheduler that
does not promise to lose nothing (Cinder's acknowledges a cast before it
is done with it), asserted for one that does (SchedulerSlot.loses_no_cast).
"""

import collections
import json
import time

from tests.interop import rest

BURST = 200
KILLS = 3


def _burst(lab) -> tuple[list[str], list[int]]:
    """Create BURST volumes; kill -9 and restart the scheduler at each
    quarter, once the previous one consumes again."""
    kill_at = {BURST * (k + 1) // (KILLS + 1) for k in range(KILLS)}
    ids, refused = [], []
    for i in range(BURST):
        if i in kill_at:
            lab.wait_scheduler_consuming()
            lab.kill_scheduler()
            lab.start_scheduler()
        try:
            ids.append(lab.client.create_volume(
                1, name='burst-%03d' % i)['id'])
        except rest.HTTPError as exc:
            refused.append(exc.status)
    return ids, refused


def test_burst_with_the_scheduler_killed_three_times(lab, record_property):
    starts = lab.scheduler.starts
    began = time.monotonic()
    ids, refused = _burst(lab)
    posted = time.monotonic() - began
    lab.wait_scheduler_ready()
    rows = lab.wait_settled(ids)

    statuses = collections.Counter(row['status'] for row in rows.values())
    figure = {
        'scheduler': lab.scheduler_slot.name, 'volumes': BURST,
        'kills': lab.scheduler.starts - starts,
        'available': statuses['available'], 'error': statuses['error'],
        'creating': statuses['creating'],
        'creating_without_host': sum(
            1 for row in rows.values()
            if row['status'] == 'creating' and row['host'] is None),
        'other': sum(n for s, n in statuses.items()
                     if s not in ('available', 'error', 'creating')),
        'refused_by_api': len(refused),
        'post_seconds': round(posted, 1),
        'settled_seconds': round(time.monotonic() - began, 1)}
    record_property('interop figure', json.dumps(figure, sort_keys=True))
    print('burst figure:', figure)

    assert figure['kills'] == KILLS
    assert len(ids) + len(refused) == BURST
    assert sum(statuses.values()) == len(ids)
    # The restarted scheduler serves the next user.
    after = lab.client.wait_volume(lab.client.create_volume(1)['id'])
    assert after['status'] == 'available'
    if lab.scheduler_slot.loses_no_cast:
        assert (statuses['available'], refused) == (BURST, [])
