"""200 volumes through REST while the scheduler slot is kill -9-ed 3 times.

What became of each volume is the figure: reported for a scheduler that
does not promise to lose nothing (Cinder's acknowledges a cast before it
is done with it), asserted for one that does (SchedulerSlot.loses_no_cast).
And a backlog that waited for a stopped scheduler: all of it available
once it is back, and how long it placed nothing (a figure).
"""

import collections
from concurrent import futures
import json
import threading
import time

from tests.interop import rest

BURST = 200
KILLS = 3
POSTERS = 4
LEAD = BURST // (KILLS + 1) // 2
# NOTE: more casts than two handler batches of ours (2 x 64), so that
# every handler thread of a starting worker holds create_volume casts.
BACKLOG = 150
# Cinder's scheduler_driver_init_wait_time and our driver_init_wait_time.
DRIVER_INIT_WAIT_TIME = 60


def _burst(lab) -> tuple[list[str], list[int], list[int]]:
    """Create BURST volumes from POSTERS threads; at each quarter, once the
    previous scheduler consumes, kill -9 it and start a new one.

    A post more than LEAD past a quarter waits for that quarter's kill:
    every kill falls inside the burst, with casts in flight, whatever the
    machine's speed. Returns ids, refused statuses, and how many burst
    volumes were not yet placed at each kill.
    """
    quarters = [BURST * (k + 1) // (KILLS + 1) for k in range(KILLS)]
    killed = [threading.Event() for _ in quarters]
    ids, refused, unplaced, done = [], [], [], threading.Semaphore(0)

    def post(i: int) -> None:
        for quarter, event in zip(quarters, killed, strict=True):
            if i >= quarter + LEAD:
                event.wait(300)
        try:
            ids.append(lab.client.create_volume(
                1, name='burst-%03d' % i)['id'])
        except rest.HTTPError as exc:
            refused.append(exc.status)
        finally:
            done.release()

    with futures.ThreadPoolExecutor(POSTERS) as pool:
        posts = [pool.submit(post, i) for i in range(BURST)]
        finished = 0
        try:
            for quarter, event in zip(quarters, killed, strict=True):
                while finished < quarter:
                    assert done.acquire(timeout=300), 'posts stopped'
                    finished += 1
                lab.wait_scheduler_consuming()
                unplaced.append(_unplaced(lab))
                lab.kill_scheduler()
                lab.start_scheduler()
                event.set()
        finally:
            for event in killed:
                event.set()
        for each in posts:
            each.result()
    return ids, refused, unplaced


def _post(lab, names: list[str]) -> list[str]:
    with futures.ThreadPoolExecutor(POSTERS) as pool:
        return list(pool.map(
            lambda name: lab.client.create_volume(1, name=name)['id'],
            names))


def _unplaced(lab) -> int:
    return lab.db.rows(
        "SELECT count(*) AS n FROM volumes WHERE display_name LIKE "
        "'burst-%%' AND status = 'creating' AND host IS NULL")[0]['n']


def test_burst_with_the_scheduler_killed_three_times(lab, record_property):
    starts = lab.scheduler.starts
    shared = lab.shared_services()
    began = time.monotonic()
    ids, refused, unplaced = _burst(lab)
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
        'refused_by_api': len(refused), 'unplaced_at_kills': unplaced,
        'post_seconds': round(posted, 1),
        'restarted_meanwhile': sorted(
            name for name, seen in lab.shared_services().items()
            if seen != shared[name]),
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
        # NOTE: a broker restart drops the casts of transient queues
        # (oslo.messaging's default) and a database restart fails Cinder's
        # own services: the figure then says nothing about the scheduler.
        assert not figure['restarted_meanwhile'], (
            'inconclusive: %s restarted during the burst (another suite '
            'on this machine?)' % ' and '.join(figure['restarted_meanwhile']))
        assert (statuses['available'], refused) == (BURST, [])


def test_a_restarted_scheduler_makes_its_whole_backlog_available(
        lab, record_property):
    shared = lab.shared_services()
    # NOTE: stopped, not killed: nothing is lost, the casts queue up.
    lab.scheduler.stop()
    try:
        ids = _post(lab, ['backlog-%03d' % i for i in range(BACKLOG)])
    finally:
        lab.start_scheduler()
    lab.wait_scheduler_consuming()
    consuming = time.monotonic()

    def placed():
        return sum(1 for row in lab.db.volumes(ids).values() if row['host'])
    # NOTE: measured, not asserted. Both schedulers ask the volume
    # services to report at start and hold placement until a report came
    # or the start-up wait ran out; with more casts queued than handler
    # threads (Cinder's 64 green threads, our 2 batches of 64), every
    # thread waits and none is left to take the report: both place
    # nothing for DRIVER_INIT_WAIT_TIME (seen: Cinder's 0 placed after
    # 30 s). A figure worth beating, not a difference.
    rest.CinderClient.wait_for(placed, bool, DRIVER_INIT_WAIT_TIME + 120,
                               'the first volume of the backlog placed')
    first = time.monotonic() - consuming
    rows = lab.wait_settled(ids, timeout=600)
    statuses = collections.Counter(row['status'] for row in rows.values())
    figure = {'scheduler': lab.scheduler_slot.name, 'backlog': BACKLOG,
              'first_placed_seconds': round(first, 1),
              'all_final_seconds': round(time.monotonic() - consuming, 1),
              'statuses': dict(statuses),
              'restarted_meanwhile': sorted(
                  name for name, seen in lab.shared_services().items()
                  if seen != shared[name])}
    record_property('interop figure', json.dumps(figure, sort_keys=True))
    print('backlog figure:', figure)

    assert sum(statuses.values()) == BACKLOG
    if lab.scheduler_slot.loses_no_cast:
        # NOTE: as for the burst: Cinder's scheduler loses casts when the
        # shared database refuses it for a moment; its figure is reported.
        assert not figure['restarted_meanwhile'], (
            'inconclusive: %s restarted during the backlog (another suite '
            'on this machine?)' % ' and '.join(figure['restarted_meanwhile']))
        assert statuses == {'available': BACKLOG}
        lab.wait_scheduler_ready()
