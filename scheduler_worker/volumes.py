"""Creating a volume from a cast: check, place, persist once, report.

Placing a volume is choosing a pool (the scheduler's candidates, best
first) and claiming the volume's size from it in the transaction that
inserts the volume and its notification. A claim that finds the pool full
(another worker was faster) rolls the whole transaction back and the next
candidate is tried; when none is left, the volume ends in error with
NoValidBackend. A redelivered cast fails on its duplicate id before it
claims anything.
"""

import dataclasses
from typing import Any
import uuid

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import validation
from scheduler_worker.objects import cinder
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import request as scheduler_request

# NOTE: oslo.log's adapter: a keyword such as volume_id=... becomes a field
# of the JSON log line ([DEFAULT] use_json), which operators search by.
LOG = logging.getLogger(__name__)

# NOTE: fixed forever: volume ids derived from message ids must map the
# same way in every release, or a redelivery would create a second volume.
_MESSAGE_ID_NAMESPACE = uuid.UUID('5a3b8a2c-7a0e-4c59-9f0a-3c1f3e1d2b6d')


def derived_volume_id(message_id: str) -> str:
    """The volume id of a cast that sent none: stable across redelivery."""
    return str(uuid.uuid5(_MESSAGE_ID_NAMESPACE, message_id))


def _requested_fields(volume: Any) -> dict[str, Any]:
    """The fields a cast asks for, whatever form its volume came in."""
    if isinstance(volume, objects.Volume):
        return {name: getattr(volume, name) for name in volume.fields
                if volume.obj_attr_is_set(name)}
    if cinder.is_primitive(volume):
        data = volume.get('versioned_object.data')
        exc = exception.UnsupportedObject(
            reason='expected a Volume of version 1.x',
            **cinder.describe(volume))
        exc.volume_id = data.get('id') if isinstance(data, dict) else None
        raise exc
    if volume is None:
        raise exception.InvalidVolume(reason='volume is required')
    if not isinstance(volume, dict):
        raise exception.InvalidVolume(
            reason='volume must be an object, not %s' % type(volume).__name__)
    return volume


def _with_owner(raw: dict[str, Any], properties: dict[str, Any],
                context) -> dict[str, Any]:
    """Fill user and project the way Cinder's own flow would.

    Cinder's casts leave them empty on the Volume and set them in the
    request spec's volume_properties; the context is the last resort.
    """
    raw = dict(raw)
    for key, fallback in (('user_id', context.user_id),
                          ('project_id', context.project_id)):
        if raw.get(key) is None:
            raw[key] = properties.get(key) or fallback
    return raw


def _spec_and_properties(request_spec: Any) -> tuple[dict, dict]:
    spec = cinder.to_plain(request_spec)
    spec = spec if isinstance(spec, dict) else {}
    properties = spec.get('volume_properties')
    return spec, properties if isinstance(properties, dict) else {}


def _properties_of(values: dict[str, Any]) -> dict[str, Any]:
    keys = ('size', 'availability_zone', 'display_name',
            'display_description', 'user_id', 'project_id', 'status',
            'attach_status', 'volume_type_id', 'metadata')
    return {k: values[k] for k in keys if k in values}


@dataclasses.dataclass
class Prepared:
    """A checked create_volume request, ready to be placed and stored."""

    context: Any
    values: dict[str, Any]
    spec: dict[str, Any]
    properties: dict[str, Any]
    request: scheduler_request.VolumeRequest


def log_created(context, volume) -> None:
    """The line an operator greps for: one per volume, with its request."""
    LOG.info('Created volume %s (%s GiB) on host %s', volume.id,
             volume.size, volume.host or '-', volume_id=volume.id,
             context=context)


def placed_values(values: dict[str, Any], pool) -> dict[str, Any]:
    """The volume's values once it is placed on ``pool``."""
    placed = dict(values, host=pool.host, scheduled_at=timeutils.utcnow())
    placed['availability_zone'] = (values.get('availability_zone')
                                   or pool.availability_zone)
    return placed


class VolumeCreator:
    """Turns create_volume casts into volume rows and notifications."""

    def __init__(self, outbox: notifications.Outbox, max_size: int,
                 scheduler: driver.FilterScheduler) -> None:
        self.outbox = outbox
        self.max_size = max_size
        self.scheduler = scheduler

    def create(self, context, volume: Any,
               request_spec: Any = None) -> objects.Volume:
        """Place the requested volume, persist it once and report it.

        Raises Invalid or NoValidBackend (after recording the volume in
        error and sending the ERROR notification) when the request cannot
        be honoured.
        """
        return self.place(self.prepare(context, volume, request_spec))

    def prepare(self, context, volume: Any,
                request_spec: Any = None) -> 'Prepared':
        """Check a request; what place() (or a batch) needs to store it.

        Raises Invalid after recording the refusal and reporting it.
        """
        spec, properties = _spec_and_properties(request_spec)
        try:
            raw = _with_owner(_requested_fields(volume), properties, context)
        except exception.Invalid as exc:
            self._fail(context, getattr(exc, 'volume_id', None), {}, spec,
                       properties, exc)
            raise
        values, problems = validation.check_volume(raw, self.max_size)
        if 'id' not in raw and context.message_id:
            values['id'] = derived_volume_id(context.message_id)
        if problems:
            exc = exception.InvalidVolume(reason='; '.join(problems))
            self._fail(context, values.get('id'), values, spec, properties,
                       exc)
            raise exc
        values.setdefault('id', uuidutils.generate_uuid())
        request = scheduler_request.VolumeRequest.from_cast(
            context, values, raw, spec)
        return Prepared(context, values, spec, properties, request)

    def place(self, item: 'Prepared') -> objects.Volume:
        """Persist the volume on the first candidate pool with room left."""
        context, values = item.context, item.values
        try:
            pools = self.scheduler.candidates(context, item.request)
        except exception.NoValidBackend as exc:
            self.fail(item, exc)
            raise
        for pool in pools:
            try:
                return self._persist(context, placed_values(values, pool),
                                     item.spec, item.properties,
                                     pool.claim(item.request.size,
                                                item.request.thick))
            except exception.CapacityClaimFailed as exc:
                LOG.info('Volume %s: %s Trying the next pool.',
                         values['id'], exc, volume_id=values['id'],
                         context=context)
        exc = exception.NoValidBackend(
            reason='No backend has %d GiB of free capacity left: concurrent '
                   'requests took the room of all %d candidates'
                   % (item.request.size, len(pools)))
        self.fail(item, exc)
        raise exc

    def fail(self, item: 'Prepared', exc: Exception) -> None:
        """Record a prepared volume in error and report why."""
        self._fail(item.context, item.values['id'], item.values, item.spec,
                   item.properties, exc)

    def _persist(self, context, values, spec, properties,
                 claim=None) -> objects.Volume:
        values = dict(values, created_at=timeutils.utcnow())
        values.setdefault('id', uuidutils.generate_uuid())
        values.setdefault('status', 'creating')
        volume = objects.Volume(context=context, **values)
        outbox = self.outbox.stage(context, notifications.CREATE_END, 'INFO',
                                   notifications.volume_usage(volume))
        try:
            volume.create(outbox=outbox, claim=claim)
        except exception.VolumeExists:
            LOG.info('Volume %s already exists: duplicate delivery, '
                     'nothing to do', values['id'], volume_id=values['id'],
                     context=context)
            return objects.Volume.get_by_id(context, values['id'])
        except db_exc.DBConnectionError:
            raise
        except db_exc.DBError as exc:
            LOG.error('Database refused volume %s: %s', values['id'], exc,
                      volume_id=values['id'], context=context)
            refused = exception.InvalidVolume(
                reason='the database refused it (%s)' % type(exc).__name__)
            self._fail(context, values['id'], values, spec, properties,
                       refused)
            raise refused from exc
        log_created(context, volume)
        self.outbox.publish(outbox)
        return volume

    def _fail(self, context, volume_id, values, spec, properties,
              exc: Exception) -> None:
        """Record the volume in error (where its id is known) and notify."""
        LOG.error('Cannot create volume %s: %s', volume_id or '(no id)', exc,
                  volume_id=volume_id, context=context)
        outbox = self.outbox.stage(
            context, notifications.CREATE_ERROR, 'ERROR',
            notifications.create_failure(
                volume_id, spec, properties or _properties_of(values), exc))
        if volume_id is None:
            self.outbox.add(outbox)
        elif self._record_error(context, volume_id, values, outbox):
            self.outbox.publish(outbox)

    @staticmethod
    def _record_error(context, volume_id: str, values: dict,
                      outbox: list) -> bool:
        """Store the refused volume in status error; False if it exists."""
        values = dict(values, id=volume_id, status='error')
        for key in ('metadata', 'size'):
            values.setdefault(key, None)
        try:
            try:
                objects.Volume(context=context, **values).create(
                    outbox=outbox)
            except db_exc.DBConnectionError:
                raise
            except db_exc.DBError:
                # NOTE: the values themselves may be what the database
                # refuses; the id and status alone still tell the user.
                objects.Volume(context=context, id=volume_id,
                               status='error').create(outbox=outbox)
        except exception.VolumeExists:
            LOG.info('Volume %s already exists: not recording this '
                     'refused delivery again', volume_id, volume_id=volume_id)
            return False
        return True
