"""VolumeCreator against a real SQLite database and a real fake:// notifier."""

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import volumes
from scheduler_worker.scheduler import driver
from tests import fixtures


@pytest.fixture
def creator(sqlite_db):
    with fixtures.volume_creator('unit@lvm#pool', total_gb=12,
                                 max_size=10) as (volume_creator, capture):
        yield volume_creator, capture, sqlite_db


def _ctx(message_id=None):
    return context.RequestContext('u', 'p', message_id=message_id)


def test_same_message_twice_creates_one_volume(creator):
    create, capture, db = creator
    first = create.create(_ctx('msg-1'), {'size': 1})
    again = create.create(_ctx('msg-1'), {'size': 1})
    assert first.id == again.id == volumes.derived_volume_id('msg-1')
    assert len(db.rows('SELECT id FROM volumes')) == 1
    capture.wait_for(notifications.CREATE_END, 1)
    other = create.create(_ctx('msg-2'), {'size': 1})
    assert other.id != first.id
    capture.wait_for(notifications.CREATE_END, 2)
    assert len(capture.of(notifications.CREATE_END)) == 2
    # NOTE: the redelivery claimed nothing: 1 GiB for each volume.
    assert db.rows('SELECT allocated_gb FROM pools') == [(2,)]


def test_refused_duplicate_is_not_reported_twice(creator):
    create, capture, db = creator
    volume_id = 'f0c9a8e4-0b6a-4d4e-9d59-5d1a6b1c2d3e'
    for _ in range(2):
        with pytest.raises(exception.InvalidVolume):
            create.create(_ctx(), {'id': volume_id, 'size': 11})
    capture.wait_for(notifications.CREATE_ERROR, 1)
    create.create(_ctx(), {'size': 1})
    capture.wait_for(notifications.CREATE_END, 1)
    assert len(capture.of(notifications.CREATE_ERROR)) == 1
    assert db.rows('SELECT status, size FROM volumes WHERE id = :id',
                   id=volume_id) == [('error', None)]


@pytest.mark.parametrize('volume,expected', [
    (None, 'volume is required'), ('vol', 'must be an object'),
    (42, 'must be an object'), (['size', 1], 'must be an object')])
def test_volume_that_is_not_an_object_is_refused(creator, volume, expected):
    create, capture, _ = creator
    with pytest.raises(exception.InvalidVolume, match=expected):
        create.create(_ctx(), volume)
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['volume_id'] is None


def test_owner_falls_back_to_request_spec_then_context(creator):
    create, _, _ = creator
    spec = {'volume_properties': {'user_id': 'spec-user'}}
    volume = create.create(_ctx(), {'size': 1}, request_spec=spec)
    assert (volume.user_id, volume.project_id) == ('spec-user', 'p')


def test_volume_is_placed_and_its_size_claimed(creator):
    create, capture, db = creator
    volume = create.create(_ctx(), {'size': 3})
    assert (volume.host, volume.availability_zone) == ('unit@lvm#pool',
                                                       'nova')
    assert volume.scheduled_at is not None
    [note] = capture.wait_for(notifications.CREATE_END, 1)
    assert note['payload']['host'] == 'unit@lvm#pool'
    assert note['payload']['scheduled_at'] is not None
    assert db.rows('SELECT allocated_gb FROM pools') == [(3,)]


def test_full_pool_refuses_with_a_reason_and_claims_nothing(creator):
    create, capture, db = creator
    create.create(_ctx(), {'size': 10})
    with pytest.raises(exception.NoValidBackend) as refused:
        create.create(_ctx(), {'size': 5, 'display_name': 'too-big'})
    assert str(refused.value) == (
        'No valid backend was found. No backend has 5 GiB of free capacity '
        'left (the most is 2 GiB, on unit@lvm#pool)')
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['reason'] == notifications.exception_reason(
        refused.value)
    assert db.rows("SELECT status, host, size FROM volumes WHERE "
                   "display_name = 'too-big'") == [('error', None, 5)]
    assert db.rows('SELECT allocated_gb FROM pools') == [(10,)]


def test_named_pool_is_checked_and_claimed(creator):
    create, _, db = creator
    volume = create.create(_ctx(), {'size': 2, 'host': 'unit@lvm'})
    assert volume.host == 'unit@lvm#pool'
    with pytest.raises(exception.NoValidBackend, match='other@lvm#pool is '
                       'not known'):
        create.create(_ctx(), {'size': 1, 'host': 'other@lvm#pool'})
    assert db.rows('SELECT allocated_gb FROM pools') == [(2,)]


class _OutrunScheduler(driver.FilterScheduler):
    """Another worker fills the best pool right after it was chosen."""

    def candidates(self, context, request):
        pools = super().candidates(context, request)
        best = pools[0]
        objects.Volume(context=context, size=best.available_gb(False),
                       host=best.host).create(
            claim=best.claim(best.available_gb(False), False))
        return pools


def test_lost_race_moves_on_to_the_next_pool(creator):
    create, capture, db = creator
    fixtures.static_backend('second@lvm#pool', total_gb=5)
    create.scheduler = _OutrunScheduler(fixtures.make_conf())
    volume = create.create(_ctx(), {'size': 4})
    assert volume.host == 'second@lvm#pool'
    with pytest.raises(exception.NoValidBackend, match='concurrent requests '
                       'took the room of all 1 candidates'):
        create.create(_ctx(), {'size': 1})
    assert sorted(db.rows('SELECT host, allocated_gb FROM pools')) == [
        ('second@lvm#pool', 5), ('unit@lvm#pool', 12)]
