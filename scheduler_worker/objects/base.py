"""Object registry, base class, and the serializer of casts' objects."""

from typing import Any

from oslo_versionedobjects import base

from scheduler_worker.objects import primitives

NAMESPACE = primitives.NAMESPACE

ObjectListBase = base.ObjectListBase
VersionedObjectDictCompat = base.VersionedObjectDictCompat


class SchedulerWorkerObjectRegistry(base.VersionedObjectRegistry):
    def registration_hook(self, cls, index):
        from scheduler_worker import objects
        setattr(objects, cls.obj_name(), cls)


class SchedulerWorkerObject(base.VersionedObject):
    OBJ_PROJECT_NAMESPACE = NAMESPACE
    OBJ_SERIAL_NAMESPACE = 'versioned_object'

    @classmethod
    def _from_db_object(cls, context, obj, db_obj: dict[str, Any]):
        for name in obj.fields:
            if name in db_obj:
                setattr(obj, name, db_obj[name])
        obj._context = context
        obj.obj_reset_changes()
        return obj


class ObjectSerializer(base.VersionedObjectSerializer):
    """Sends our objects as primitives; hands received ones over as sent.

    What a received primitive is taken for is for its reader to say (see
    objects.primitives): nothing is rebuilt, so nothing is coerced.
    """

    OBJ_BASE_CLASS = SchedulerWorkerObject

    def _process_object(self, context,
                        objprim: dict[str, Any]) -> primitives.Primitive:
        return primitives.Primitive.of(objprim)
