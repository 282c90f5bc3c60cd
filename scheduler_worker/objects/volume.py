"""The Volume object: Cinder's fields for scheduling and accounting."""

from typing import Any

from oslo_utils import uuidutils
from oslo_versionedobjects import fields

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
        'status': fields.StringField(nullable=True),
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

    # NOTE: columns the database fills in. created_at may be given, so
    # that a notification staged before the insert carries the same time.
    _DB_MANAGED = ('created_at', 'updated_at', 'deleted_at', 'deleted')

    @classmethod
    def get_by_id(cls, context, volume_id: str) -> 'Volume':
        return cls._from_db_object(context, cls(),
                                   db.volume_get(context, volume_id))

    def create(self, outbox: list[dict[str, Any]] | None = None,
               claim: dict[str, Any] | None = None) -> None:
        """Insert this volume, with its notifications, in one transaction.

        ``claim`` (see db.api.volume_create) takes the volume's capacity
        from its pool in that same transaction. Raises VolumeExists if the
        id is taken, CapacityClaimFailed if the pool is full; either way
        nothing is stored.
        """
        values = {k: v for k, v in self.obj_get_changes().items()
                  if k not in self._DB_MANAGED or k == 'created_at'}
        values.setdefault('id', uuidutils.generate_uuid())
        values.setdefault('status', 'creating')
        db_volume = db.volume_create(self._context, values, outbox=outbox,
                                     claim=claim)
        self._from_db_object(self._context, self, db_volume)

    def save(self, expected: dict[str, Any] | None = None,
             outbox: list[dict[str, Any]] | None = None) -> None:
        """Write changed fields; with ``expected``, only if still true."""
        updates = self.obj_get_changes()
        if updates:
            db_volume = db.volume_update(self._context, self.id, updates,
                                         expected=expected, outbox=outbox)
            self._from_db_object(self._context, self, db_volume)


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
