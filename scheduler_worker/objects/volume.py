"""The Volume object: Cinder's fields for scheduling and accounting."""

from typing import Any

from oslo_utils import uuidutils
from oslo_versionedobjects import fields
from oslo_versionedobjects import fields as ovo_fields

from scheduler_worker.db import api as db
from scheduler_worker.objects import base


@base.SchedulerWorkerObjectRegistry.register
class Volume(base.SchedulerWorkerObject, base.VersionedObjectDictCompat):
    """A block storage volume, as Cinder's Volume 1.x describes it.

    Version history:
        1.0 - Initial version
    """

    VERSION = '1.0'

    fields = {
        'id': fields.UUIDField(),
        'user_id': fields.StringField(nullable=True),
        'project_id': fields.StringField(nullable=True),
        'host': fields.StringField(nullable=True),
        'cluster_name': fields.StringField(nullable=True),
        'size': fields.IntegerField(nullable=True),
        'availability_zone': fields.StringField(nullable=True),
        'status': fields.StringField(nullable=True, default='creating'),
        'attach_status': fields.StringField(nullable=True),
        'scheduled_at': fields.DateTimeField(nullable=True),
        'launched_at': fields.DateTimeField(nullable=True),
        'terminated_at': fields.DateTimeField(nullable=True),
        'display_name': fields.StringField(nullable=True),
        'display_description': fields.StringField(nullable=True),
        'volume_type_id': fields.UUIDField(nullable=True),
        'snapshot_id': fields.UUIDField(nullable=True),
        'source_volid': fields.UUIDField(nullable=True),
        'bootable': fields.BooleanField(default=False),
        'multiattach': fields.BooleanField(default=False),
        'metadata': fields.DictOfStringsField(nullable=True),
        'created_at': fields.DateTimeField(nullable=True),
        'updated_at': fields.DateTimeField(nullable=True),
        'deleted_at': fields.DateTimeField(nullable=True),
        'deleted': fields.BooleanField(default=False),
    }

    # NOTE: what new() fills in; obj_set_defaults() would look at every
    # field of every volume of a batch to find these.
    _DEFAULTS = {name: field.default for name, field in fields.items()
                 if field.default is not ovo_fields.UnspecifiedDefault}

    @classmethod
    def new(cls, context, **values: Any) -> 'Volume':
        """A volume not stored yet: these values, the defaults for the rest
        (status ``creating``)."""
        return cls(context=context, **dict(cls._DEFAULTS, **values))

    def obj_what_changed(self) -> set[str]:
        """The fields set since the last reset.

        NOTE: the base class also asks every field whether it holds an
        object with changes of its own. No field of a Volume holds one,
        and asking made obj_get_changes() five times slower (30 against
        6 us a volume), on every volume a batch stores.
        """
        return self._changed_fields & self.fields.keys()

    @classmethod
    def get_by_id(cls, context, volume_id: str) -> 'Volume':
        return cls._from_db_object(context, cls(),
                                   db.volume_get(context, volume_id))

    def create(self) -> None:
        """Insert this volume: create_all() of one, defaults filled in.

        An id is drawn when it has none. Raises DBDuplicateEntry if the id
        is taken.
        """
        for name, default in self._DEFAULTS.items():
            if not self.obj_attr_is_set(name):
                setattr(self, name, default)
        if not self.obj_attr_is_set('id'):
            self.id = uuidutils.generate_uuid()
        self.create_all(self._context, [self])

    @staticmethod
    def create_all(context, volumes: list['Volume'],
                   claims: list[dict[str, Any]] = (),
                   outbox: list[dict[str, Any]] = ()) -> None:
        """Insert new volumes with their notifications and capacity claims
        (see db.api.volume_create_all), in one transaction.

        Raises DBDuplicateEntry if an id is taken, CapacityClaimFailed if
        a pool has no room left; either way nothing is stored.
        """
        db.volume_create_all(context,
                             [volume.obj_get_changes() for volume in volumes],
                             list(claims), list(outbox))
        for volume in volumes:
            volume.obj_reset_changes()

    # NOTE: what Cinder's scheduler writes on its volume row
    # (scheduler/driver.py:volume_update_db, and status on failure).
    _SCHEDULED = ('host', 'cluster_name', 'scheduled_at',
                  'availability_zone', 'status')

    @classmethod
    def schedule_all(cls, context, volumes: list['Volume'],
                     cast_keys: list[str], claims: list[dict[str, Any]],
                     outbox: list[dict[str, Any]],
                     messages: list[dict[str, Any]],
                     service_id: int | None) -> None:
        """Cinder mode: write where each of Cinder's volumes goes (or only
        its status, error, leaving the rest as it was), with claims,
        outbox rows and user messages, in one transaction (see
        db.api.volume_create_all).

        Raises DBDuplicateEntry if a cast key was handled already,
        VolumeNotFound if a volume is gone, CapacityClaimFailed if a pool
        has no room left; in each case nothing is stored.
        """
        rows = [dict({name: volume[name] for name in (
            ('status',) if volume.status == 'error' else cls._SCHEDULED)
            if volume.obj_attr_is_set(name)}, id=volume.id, cast_key=key)
            for volume, key in zip(volumes, cast_keys, strict=True)]
        db.volume_create_all(context, rows, list(claims), list(outbox),
                             messages=list(messages), service_id=service_id)
        for volume in volumes:
            volume.obj_reset_changes()


@base.SchedulerWorkerObjectRegistry.register
class VolumeList(base.ObjectListBase, base.SchedulerWorkerObject):
    VERSION = '1.0'

    fields = {'objects': fields.ListOfObjectsField('Volume')}

    @classmethod
    def get_all(cls, context, filters: dict[str, Any] | None = None,
                limit: int | None = None) -> 'VolumeList':
        volumes = [Volume._from_db_object(context, Volume(), v)
                   for v in db.volume_get_all(context, filters, limit)]
        return cls(context, objects=volumes)
