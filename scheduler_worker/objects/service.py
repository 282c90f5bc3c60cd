"""The Service object: a row per (host, binary), kept up by heartbeats."""

import datetime

from oslo_utils import timeutils
from oslo_versionedobjects import fields

from scheduler_worker.db import api as db
from scheduler_worker.objects import base


@base.SchedulerWorkerObjectRegistry.register
class Service(base.SchedulerWorkerObject):
    """A running (or once running) worker.

    Version history:
        1.0 - Initial version
    """

    VERSION = '1.0'

    fields = {
        'id': fields.IntegerField(),
        'host': fields.StringField(),
        'binary': fields.StringField(),
        'topic': fields.StringField(nullable=True),
        'report_count': fields.IntegerField(default=0),
        'disabled': fields.BooleanField(default=False),
        'disabled_reason': fields.StringField(nullable=True),
        'created_at': fields.DateTimeField(nullable=True),
        'updated_at': fields.DateTimeField(nullable=True),
        'deleted_at': fields.DateTimeField(nullable=True),
        'deleted': fields.BooleanField(default=False),
    }

    @classmethod
    def get_or_create(cls, context, host: str, binary: str,
                      topic: str) -> 'Service':
        return cls._from_db_object(
            context, cls(),
            db.service_get_or_create(context, host, binary, topic))

    def heartbeat(self) -> None:
        self._from_db_object(self._context, self,
                             db.service_heartbeat(self._context, self.id))

    def is_up(self, down_time: int,
              now: datetime.datetime | None = None) -> bool:
        """Whether a heartbeat came within the last ``down_time`` seconds."""
        last = self.updated_at or self.created_at
        if last is None:
            return False
        now = now or timeutils.utcnow()
        elapsed = (timeutils.normalize_time(now) -
                   timeutils.normalize_time(last)).total_seconds()
        return abs(elapsed) <= down_time


@base.SchedulerWorkerObjectRegistry.register
class ServiceList(base.ObjectListBase, base.SchedulerWorkerObject):
    VERSION = '1.0'

    fields = {'objects': fields.ListOfObjectsField('Service')}

    @classmethod
    def get_all(cls, context, binary: str | None = None) -> 'ServiceList':
        services = [Service._from_db_object(context, Service(), s)
                    for s in db.service_get_all(context, binary)]
        return cls(context, objects=services)
