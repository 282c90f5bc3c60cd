"""Capacity claims under concurrency, on SQLite, PostgreSQL and MariaDB."""

import datetime
import threading
import uuid

from oslo_utils import timeutils

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import volumes
from scheduler_worker.db import api as db
from scheduler_worker.scheduler import backends
from tests import fixtures

THREADS = 8
ATTEMPTS = 4


def test_concurrent_claims_and_reports_never_overfill_a_pool(any_db):
    """32 claims of 5 GiB race for 50 GiB while the backend keeps
    reporting the same free capacity: exactly 10 win."""
    registry = backends.BackendRegistry(fixtures.make_conf())
    report = fixtures.lvm_capabilities(fixtures.lvm_pool('p', 50))
    admin = context.get_admin_context()
    registry.update_service_capabilities(admin, 'volume', 'race@lvm', report)
    [pool] = db.pool_get_all(admin)
    claim = {'pool_id': pool['id'], 'host': pool['host'], 'size': 5,
             'thick': True}
    outcomes, start, reporting = [], threading.Barrier(THREADS + 1), True

    def claimer():
        start.wait()
        for _ in range(ATTEMPTS):
            admin = context.get_admin_context()
            try:
                objects.Volume.create_all(admin, [objects.Volume.new(
                    admin, id=str(uuid.uuid4()), size=5,
                    host=pool['host'])], claims=[claim])
                outcomes.append('placed')
            except exception.CapacityClaimFailed:
                outcomes.append('full')

    def reporter():
        start.wait()
        at = timeutils.utcnow() - datetime.timedelta(hours=1)
        while reporting:
            at += datetime.timedelta(seconds=1)
            registry.update_service_capabilities(
                context.get_admin_context(), 'volume', 'race@lvm', report,
                timestamp=at.isoformat())

    threads = [threading.Thread(target=claimer) for _ in range(THREADS)]
    report_thread = threading.Thread(target=reporter)
    for thread in threads + [report_thread]:
        thread.start()
    for thread in threads:
        thread.join(120)
    reporting = False
    report_thread.join(60)
    assert sorted(outcomes) == ['full'] * 22 + ['placed'] * 10
    assert any_db.rows(
        'SELECT allocated_gb FROM scheduler_worker_pools') == [(50,)]
    assert any_db.rows('SELECT count(*), sum(size) FROM volumes') == [
        (10, 50)]


def test_claim_lost_between_plan_and_claim_is_placed_again(any_db):
    """Another worker's committed claim makes the pools read stale: the
    batch is placed again from fresh states, on SQLite, PostgreSQL and
    MariaDB alike."""
    with fixtures.volume_creator('first@lvm#pool', total_gb=12,
                                 max_size=100) as (creator, capture):
        fixtures.static_backend('second@lvm#pool', total_gb=20)
        competitor = fixtures.CompetingClaim(creator.scheduler,
                                             'second@lvm#pool', 15)
        results = creator.create([
            volumes.Request(context.RequestContext('u', 'p'),
                            {'id': str(uuid.uuid4()), 'size': size})
            for size in (4, 4, 9)])
        assert competitor.done
        capture.wait_for(notifications.CREATE_END, 2)
        capture.wait_for(notifications.CREATE_ERROR, 1)
    # NOTE: planned on second@ (20 GiB free when read), which kept 5 GiB:
    # the two 4 GiB volumes go to first@, the 9 GiB one fits nowhere.
    assert results[:2] == [None, None]
    assert isinstance(results[2].cause, exception.NoValidBackend)
    assert sorted(any_db.rows(
        'SELECT host, allocated_gb FROM scheduler_worker_pools')) == [
        ('first@lvm#pool', 8), ('second@lvm#pool', 15)]
    assert sorted(tuple(row) for row in any_db.rows(
        "SELECT coalesce(host, '-'), size, status FROM volumes")) == [
        ('-', 9, 'error'), ('first@lvm#pool', 4, 'creating'),
        ('first@lvm#pool', 4, 'creating'), ('second@lvm#pool', 15,
                                            'creating')]
