import uuid

from oslo_db import exception as db_exc
from oslo_versionedobjects import base
from oslo_versionedobjects import fields
import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import objects
from tests import fixtures

VOLUME_ID = '0da5e6b0-cc62-4f93-b967-79a973598bb3'


def _ctx():
    return context.RequestContext('user-1', 'project-1', is_admin=True)


def test_new_volume_defaults_to_creating():
    volume = objects.Volume.new(_ctx(), id=VOLUME_ID, size=1)
    assert (volume.status, volume.bootable, volume.multiattach) == (
        'creating', False, False)
    assert objects.Volume.new(_ctx(), status='error').status == 'error'


def test_what_changed_is_what_the_base_class_finds():
    """Volume's shortcut: no field holds an object whose changes count."""
    assert not [name for name, field in objects.Volume.fields.items()
                if isinstance(field, fields.ObjectField)]
    volume = objects.Volume.new(_ctx(), id=VOLUME_ID, size=1,
                                metadata={'k': 'v'})
    assert {'id', 'size', 'metadata', 'status'} <= volume.obj_what_changed()
    volume.obj_reset_changes(['size'])
    volume.display_name = 'renamed'
    assert 'size' not in volume.obj_what_changed()
    assert 'display_name' in volume.obj_what_changed()
    assert volume.obj_what_changed() == \
        base.VersionedObject.obj_what_changed(volume)
    volume.obj_reset_changes()
    assert volume.obj_what_changed() == set() == \
        base.VersionedObject.obj_what_changed(volume)


def test_create_all_persists_fields_metadata_and_defaults(sqlite_db):
    volumes = [objects.Volume.new(_ctx(), id=VOLUME_ID, size=2,
                                  display_name='data', metadata={'k': 'v'}),
               objects.Volume.new(_ctx(), id=str(uuid.uuid4()), size=1)]
    objects.Volume.create_all(_ctx(), volumes)
    again = objects.Volume.get_by_id(_ctx(), VOLUME_ID)
    assert (again.size, again.display_name, again.metadata,
            again.status) == (2, 'data', {'k': 'v'}, 'creating')
    assert again.created_at is not None
    assert len(objects.VolumeList.get_all(_ctx())) == 2


def test_create_fills_defaults_and_draws_an_id(sqlite_db):
    volume = objects.Volume(context=_ctx(), size=3, metadata={'a': 'b'})
    volume.create()
    again = objects.Volume.get_by_id(_ctx(), volume.id)
    assert (again.size, again.status, again.metadata) == (
        3, 'creating', {'a': 'b'})
    assert again.created_at is not None


def test_create_all_with_a_taken_id_stores_nothing(sqlite_db):
    objects.Volume.create_all(
        _ctx(), [objects.Volume.new(_ctx(), id=VOLUME_ID, size=1)])
    with pytest.raises(db_exc.DBDuplicateEntry):
        objects.Volume.create_all(_ctx(), [
            objects.Volume.new(_ctx(), id=str(uuid.uuid4()), size=5),
            objects.Volume.new(_ctx(), id=VOLUME_ID, size=5)])
    assert [v.size for v in objects.VolumeList.get_all(_ctx())] == [1]


def test_create_all_claims_or_stores_nothing(sqlite_db):
    backend = fixtures.static_backend('c@lvm#pool', total_gb=5)
    [pool] = backend['pools']
    claim = {'pool_id': pool['id'], 'host': pool['host'], 'size': 4,
             'thick': True}
    objects.Volume.create_all(
        _ctx(), [objects.Volume.new(_ctx(), id=VOLUME_ID, size=4)],
        claims=[claim])
    with pytest.raises(exception.CapacityClaimFailed):
        objects.Volume.create_all(
            _ctx(), [objects.Volume.new(_ctx(), id=str(uuid.uuid4()),
                                        size=4)], claims=[claim])
    assert sqlite_db.rows(
        'SELECT allocated_gb FROM scheduler_worker_pools') == [(4,)]
    assert sqlite_db.rows('SELECT count(*) FROM volumes') == [(1,)]


def test_volume_list_filters(sqlite_db):
    objects.Volume.create_all(_ctx(), [
        objects.Volume.new(_ctx(), id=str(uuid.uuid4()), size=size,
                           host=host)
        for size, host in ((1, 'a@b#c'), (2, 'x@y#z'))])
    volumes = objects.VolumeList.get_all(_ctx(), {'host': 'x@y#z'})
    assert [v.size for v in volumes] == [2]
