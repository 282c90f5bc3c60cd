import uuid

from scheduler_worker import context
from scheduler_worker import objects
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import request
from scheduler_worker.scheduler import weighers
from scheduler_worker.scheduler.weighers import volume_number
from tests import fixtures


def _order(multiplier):
    conf = fixtures.make_conf(scheduler__volume_number_multiplier=multiplier)
    ctxt = context.get_admin_context()
    pools = driver.FilterScheduler(conf).pools(ctxt)
    ordered = weighers.order([volume_number.VolumeNumberWeigher(conf)],
                             pools, request.VolumeRequest(context=ctxt,
                                                          size=1))
    return [pool.host for _, pool in ordered]


def _volume(host, status='creating'):
    admin = context.get_admin_context()
    objects.Volume.create_all(admin, [objects.Volume.new(
        admin, id=str(uuid.uuid4()), size=1, host=host, status=status)])


def test_fewer_volumes_first_by_default(sqlite_db):
    fixtures.static_backend('a@lvm#p')
    fixtures.static_backend('b@lvm#p')
    _volume('a@lvm#p')
    _volume('a@lvm#p')
    _volume('b@lvm#p')
    # NOTE: volumes in error hold nothing.
    _volume('b@lvm#p', status='error')
    _volume('b@lvm#p', status='error')
    assert _order(-1.0) == ['b@lvm#p', 'a@lvm#p']
    assert _order(1.0) == ['a@lvm#p', 'b@lvm#p']


def test_pools_without_volumes_weigh_alike(sqlite_db):
    fixtures.static_backend('a@lvm#p')
    fixtures.static_backend('b@lvm#p')
    assert _order(-1.0) == ['a@lvm#p', 'b@lvm#p']
