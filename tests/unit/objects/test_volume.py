import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import objects

VOLUME_ID = '0da5e6b0-cc62-4f93-b967-79a973598bb3'


def _ctx():
    return context.RequestContext('user-1', 'project-1', is_admin=True)


def test_create_persists_fields_and_defaults(sqlite_db):
    volume = objects.Volume(context=_ctx(), id=VOLUME_ID, size=2,
                            display_name='data', metadata={'k': 'v'})
    volume.create()
    assert volume.status == 'creating'
    assert volume.created_at is not None
    again = objects.Volume.get_by_id(_ctx(), VOLUME_ID)
    assert (again.size, again.display_name, again.metadata) == (
        2, 'data', {'k': 'v'})


def test_create_without_id_assigns_one(sqlite_db):
    volume = objects.Volume(context=_ctx(), size=1)
    volume.create()
    assert objects.Volume.get_by_id(_ctx(), volume.id).size == 1


def test_create_twice_raises_volume_exists(sqlite_db):
    objects.Volume(context=_ctx(), id=VOLUME_ID, size=1).create()
    with pytest.raises(exception.VolumeExists):
        objects.Volume(context=_ctx(), id=VOLUME_ID, size=5).create()
    assert objects.Volume.get_by_id(_ctx(), VOLUME_ID).size == 1


def test_save_with_expectation_is_a_compare_and_swap(sqlite_db):
    objects.Volume(context=_ctx(), id=VOLUME_ID, size=1).create()
    first = objects.Volume.get_by_id(_ctx(), VOLUME_ID)
    second = objects.Volume.get_by_id(_ctx(), VOLUME_ID)
    first.status = 'error'
    first.save(expected={'status': 'creating'})
    second.status = 'available'
    with pytest.raises(exception.VolumeNotFound):
        second.save(expected={'status': 'creating'})
    assert objects.Volume.get_by_id(_ctx(), VOLUME_ID).status == 'error'


def test_volume_list_filters(sqlite_db):
    for size, host in ((1, 'a@b#c'), (2, 'x@y#z')):
        objects.Volume(context=_ctx(), size=size, host=host).create()
    volumes = objects.VolumeList.get_all(_ctx(), {'host': 'x@y#z'})
    assert [v.size for v in volumes] == [2]
