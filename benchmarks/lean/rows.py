"""From cast bodies to the rows and notifications the worker stores.

No I/O here: both JSON layers of oslo.messaging's envelope decoded, the
minimal checks (method, size an int > 0, id a UUID), then per volume its
row, its metadata rows and its ``scheduler.create_volume.end`` notification
as the messagingv2 driver puts it on the wire, with the payload keys of
Cinder's volume usage (the worker's, DESIGN.md).
"""

import dataclasses
import datetime
import json
from typing import Any
import uuid

EVENT_TYPE = 'scheduler.create_volume.end'
PRIORITY = 'INFO'

# NOTE: the columns of ``volumes`` the worker fills for a placed volume;
# the others stay NULL.
VOLUME_COLUMNS = (
    'id', 'user_id', 'project_id', 'host', 'size', 'availability_zone',
    'status', 'attach_status', 'scheduled_at', 'display_name',
    'display_description', 'volume_type_id', 'snapshot_id', 'source_volid',
    'bootable', 'multiattach', 'created_at', 'deleted')


class Refused(ValueError):
    """A cast the minimal checks turn away; the message says why."""


@dataclasses.dataclass
class Cast:
    """What a cast asks for: the volume's fields and the caller's context."""

    volume: dict[str, Any]
    # NOTE: the ``_context_*`` keys as sent, the token dropped: they go
    # into the notification as they are.
    context: dict[str, Any]


@dataclasses.dataclass
class Pool:
    """The pool every volume is placed on (the benchmark registers one)."""

    id: int
    host: str
    availability_zone: str


@dataclasses.dataclass
class Planned:
    """One volume ready to store: its rows and its notification."""

    volume: tuple
    metadata: list[tuple]
    message_id: str
    body: str
    size: int


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def decode(body: bytes | str) -> Cast:
    """Both JSON layers of a create_volume cast, minimally checked."""
    try:
        message = json.loads(json.loads(body)['oslo.message'])
        volume = message['args']['volume']
        volume = volume.get('versioned_object.data', volume)
        metadata = volume.get('metadata') or {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Refused('not an oslo.messaging 2.0 cast with a volume: %r'
                      % exc) from None
    if message.get('method') != 'create_volume':
        raise Refused('method %r is not create_volume'
                      % (message.get('method'),))
    size = volume.get('size')
    if type(size) is not int or size < 1:
        raise Refused('size %r is not a whole number of GiB > 0' % (size,))
    if not _is_uuid(volume.get('id')):
        raise Refused('volume id %r is not a UUID' % (volume.get('id'),))
    if not isinstance(metadata, dict):
        raise Refused('metadata %r is not a mapping' % (metadata,))
    context = {key: value for key, value in message.items()
               if key.startswith('_context_')}
    context['_context_auth_token'] = None
    return Cast(volume, context)


def volume_values(cast: Cast, pool: Pool,
                  now: datetime.datetime) -> dict[str, Any]:
    """The row of a volume placed on ``pool`` at ``now`` (naive UTC)."""
    volume, context = cast.volume, cast.context
    return {
        'id': volume['id'],
        'user_id': volume.get('user_id') or context.get('_context_user_id'),
        'project_id': (volume.get('project_id')
                       or context.get('_context_project_id')),
        'host': pool.host, 'size': volume['size'],
        'availability_zone': (volume.get('availability_zone')
                              or pool.availability_zone),
        'status': volume.get('status') or 'creating',
        'attach_status': volume.get('attach_status'),
        'scheduled_at': now,
        'display_name': volume.get('display_name'),
        'display_description': volume.get('display_description'),
        'volume_type_id': volume.get('volume_type_id'),
        'snapshot_id': volume.get('snapshot_id'),
        'source_volid': volume.get('source_volid'),
        # NOTE: no coercion: anything but JSON true is false.
        'bootable': volume.get('bootable') is True,
        'multiattach': volume.get('multiattach') is True,
        'created_at': now, 'deleted': False}


def usage(values: dict[str, Any], metadata: dict[str, Any]) -> dict:
    """Cinder's volume usage payload, as the worker sends it."""
    created = values['created_at'].isoformat() + '+00:00'
    return {
        'tenant_id': values['project_id'], 'user_id': values['user_id'],
        'volume_id': values['id'], 'display_name': values['display_name'],
        'display_description': values['display_description'],
        'size': values['size'], 'status': values['status'],
        'host': values['host'],
        'availability_zone': values['availability_zone'],
        'volume_type': values['volume_type_id'],
        'snapshot_id': values['snapshot_id'],
        'created_at': created, 'scheduled_at': created, 'launched_at': None,
        'metadata': [{'key': k, 'value': v} for k, v in metadata.items()],
        'volume_attachment': [], 'replication_status': None,
        'replication_extended_status': None,
        'replication_driver_data': None}


def notification(context: dict[str, Any], payload: dict[str, Any],
                 publisher_id: str,
                 now: datetime.datetime) -> tuple[str, str]:
    """(message_id, wire body) in oslo.messaging's 2.0 envelope."""
    message_id = str(uuid.uuid4())
    message = {'message_id': message_id, 'publisher_id': publisher_id,
               'event_type': EVENT_TYPE, 'priority': PRIORITY,
               'payload': payload, 'timestamp': str(now),
               '_unique_id': uuid.uuid4().hex}
    message.update(context)
    return message_id, json.dumps({'oslo.version': '2.0',
                                   'oslo.message': json.dumps(message)})


def plan(casts: list[Cast], pool: Pool, publisher_id: str,
         now: datetime.datetime) -> dict[str, Planned]:
    """Every volume of a batch, by id; a repeated id counts once."""
    planned: dict[str, Planned] = {}
    for cast in casts:
        volume_id = cast.volume['id']
        if volume_id in planned:
            continue
        values = volume_values(cast, pool, now)
        metadata = cast.volume.get('metadata') or {}
        message_id, body = notification(
            cast.context, usage(values, metadata), publisher_id, now)
        planned[volume_id] = Planned(
            volume=tuple(values[column] for column in VOLUME_COLUMNS),
            metadata=[(volume_id, key, value, now, False)
                      for key, value in metadata.items()],
            message_id=message_id, body=body, size=values['size'])
    return planned
