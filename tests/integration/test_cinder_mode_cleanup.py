"""Workers cleanup in Cinder mode, on Cinder 29's schema: at start, and
which services work_cleanup takes for dead.

As Cinder's CleanableManager.init_host, a (re)started worker cleans the
workers rows naming its own services row: what a killed previous run of
the same service left. Rows of other services are theirs to clean.
(work_cleanup itself: tests/integration/test_cinder_mode_manage.py.)
"""

import datetime
import uuid

from oslo_utils import timeutils

from scheduler_worker import context
from scheduler_worker import service
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from tests import fixtures
from tests.integration import test_cinder_mode as base
from tests.integration import test_cinder_mode_manage as manage


def _left_by(lab, service_id: int, host: str = 'lab@b1#lab') -> str:
    """A volume placed and handed off an hour ago whose workers row still
    names ``service_id`` (its volume service never claimed it)."""
    old = timeutils.utcnow() - datetime.timedelta(hours=1)
    volume_id = lab.db.add_volume(size=1, host=host, scheduled_at=old)
    lab.db.execute('UPDATE workers SET service_id = :s, updated_at = :t '
                   'WHERE resource_id = :id', s=service_id, t=old,
                   id=volume_id)
    return volume_id


def _volume_service(lab) -> int:
    lab.db.add('services', host='lab@b2', binary='cinder-volume',
               topic='cinder-volume', report_count=1, disabled=False,
               uuid=str(uuid.uuid4()), availability_zone='nova',
               frozen=False)
    return lab.db.row("SELECT id FROM services WHERE host = 'lab@b2'")['id']


def _hand_off_pending(lab, volume_id: str) -> None:
    """The create_volume of ``volume_id`` committed in the outbox and not
    yet sent (the run was killed before the broker confirmed it), due
    later than this test looks."""
    cast = volume_rpcapi.Cast('cinder-volume.lab@b1', 'lab', 'create_volume',
                              {'volume': {'id': volume_id}}, '3.0')
    rows = cast.stage(lab.worker.outbox, context.get_admin_context())
    for row in rows:
        row['next_attempt_at'] = timeutils.utcnow() + datetime.timedelta(
            hours=1)
    db.outbox_add(context.get_admin_context(), rows)


def _workers_row(lab, volume_id: str) -> dict | None:
    rows = lab.db.rows('SELECT * FROM workers WHERE resource_id = :id',
                       id=volume_id)
    return dict(rows[0]._mapping) if rows else None


def _status(lab, volume_id: str) -> str:
    return lab.db.row('SELECT status FROM volumes WHERE id = :id',
                      id=volume_id)['status']


def test_a_restarted_worker_cleans_what_its_killed_run_left(cinder_any_db):
    lab = base.Lab(cinder_any_db)
    try:
        own = lab.worker.service_ref.id
        lab.worker.stop()
        abandoned = _left_by(lab, own)
        others = _left_by(lab, _volume_service(lab), 'lab@b2#lab')
        handing_off = _left_by(lab, own)
        _hand_off_pending(lab, handing_off)

        lab.worker = service.WorkerService(
            lab.conf, transport=lab.transport,
            notification_transport=lab.notes)
        lab.worker.start()

        # The same services row: the same service, started again.
        assert lab.worker.service_ref.id == own
        assert _status(lab, abandoned) == 'error'
        assert _workers_row(lab, abandoned) is None
        # Another service's row is left to it, as Cinder leaves it.
        assert _status(lab, others) == 'creating'
        assert _workers_row(lab, others)['service_id'] != own
        # Committed work the relay still sends is not abandoned work.
        assert _status(lab, handing_off) == 'creating'
        assert _workers_row(lab, handing_off)['service_id'] == own
    finally:
        lab.stop()


def test_the_start_up_cleanup_leaves_rows_of_a_live_cast_alone(cinder_db):
    # NOTE: a volume cinder-api just created (its workers row names no
    # service) waits for its create_volume cast: not ours to clean.
    lab = base.Lab(cinder_db)
    try:
        volume_id = lab.db.add_volume(size=1)
        lab.worker.clean_own_workers()
        assert _status(lab, volume_id) == 'creating'
        assert _workers_row(lab, volume_id)['service_id'] is None
        # And the next cast places it as ever.
        lab.report()
        fixtures.wait_until(lambda: len(lab.call('get_pools')) == 2,
                            what='both pools reported')
        ctxt, args = base._create_args(volume_id)
        lab.cast(ctxt, 'create_volume', **args)
        fixtures.wait_until(lambda: (_workers_row(lab, volume_id) or {})
                            .get('service_id') == lab.worker.service_ref.id,
                            what='the volume placed')
    finally:
        lab.stop()


def test_work_cleanup_tells_a_dead_service_by_service_down_time(cinder_db):
    # NOTE: a volume service silent for 90 s: down by Cinder's
    # service_down_time (60 s, ours by default), as cinder-api lists it;
    # up still by the 180 s a backend's capability report lasts.
    lab = base.Lab(cinder_db)
    try:
        seen = timeutils.utcnow() - datetime.timedelta(seconds=90)
        lab.db.add('services', host='lab@b9', binary='cinder-volume',
                   topic='cinder-volume', report_count=1, disabled=False,
                   uuid=str(uuid.uuid4()), availability_zone='nova',
                   frozen=False, updated_at=seen, created_at=seen)
        ctxt, request = manage._cleanup_request(binary='cinder-volume')
        requested, unavailable = lab.client.prepare(version='3.4').call(
            ctxt, 'work_cleanup', cleanup_request=request)
        assert requested == []
        assert [base._data(s)['host'] for s in unavailable] == ['lab@b9']
    finally:
        lab.stop()
