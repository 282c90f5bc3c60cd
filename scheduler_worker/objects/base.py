"""Object registry, base class, and the serializer of casts' objects."""

import logging
from typing import Any

from oslo_versionedobjects import base
from oslo_versionedobjects import exception as ovo_exc

from scheduler_worker.objects import cinder

LOG = logging.getLogger(__name__)

NAMESPACE = 'scheduler_worker'

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
    """Rebuilds our objects and Cinder's; never fails a cast by itself.

    A primitive it cannot rebuild (unknown namespace, version or content)
    is handed to the endpoint as sent, and the endpoint reports what is
    wrong with it: so a bad object ends as a volume in error with an ERROR
    notification, not as an exception inside the RPC dispatcher.
    """

    OBJ_BASE_CLASS = SchedulerWorkerObject

    def _process_object(self, context, objprim: dict[str, Any]):
        namespace = objprim.get('versioned_object.namespace')
        if namespace == cinder.NAMESPACE:
            return cinder.from_primitive(objprim)
        if namespace != NAMESPACE:
            return objprim
        try:
            return self.OBJ_BASE_CLASS.obj_from_primitive(
                objprim, context=context)
        except (ovo_exc.VersionedObjectsException, ValueError, TypeError,
                KeyError) as exc:
            LOG.debug('Leaving %s primitive as sent: %s',
                      objprim.get('versioned_object.name'), exc)
            return objprim
