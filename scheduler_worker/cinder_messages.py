"""Cinder's user messages: what ``GET /v3/{project}/messages`` tells a user.

Cinder's scheduler writes a row to its ``messages`` table when it fails a
create_volume, an extend_volume or a create_backup
(cinder/message/api.py:API.create). The worker builds the same rows'
content here; the database backend adds the id, level, event id and
expiry (see db.api.volume_create_all). The ids are Cinder's
(cinder/message/message_field.py), which cinder-api turns into text.
"""

from typing import Any

from scheduler_worker import exception

# NOTE: message_field.Resource.
VOLUME = 'VOLUME'
VOLUME_BACKUP = 'VOLUME_BACKUP'

# NOTE: message_field.Action: (id, what the user sees).
SCHEDULE_ALLOCATE_VOLUME = ('001', 'schedule allocate volume')
EXTEND_VOLUME = ('007', 'extend volume')
BACKUP_CREATE = ('013', 'create backup')

# NOTE: message_field.Detail.
UNKNOWN_ERROR = ('001', 'An unknown error occurred.')
NO_BACKEND_AVAILABLE = ('003', 'Could not find any available weighted '
                               'backend.')
BACKUP_SCHEDULE_ERROR = ('024', 'Backup failed to schedule. Service not '
                                'found for creating backup.')

# NOTE: message_field.EXCEPTION_DETAIL_MAPPINGS, for what we raise.
_DETAILS = {exception.NoValidBackend: NO_BACKEND_AVAILABLE}


def detail_for(exc: BaseException | None) -> tuple[str, str]:
    """The detail Cinder gives an exception (translate_detail_id)."""
    for kind, detail in _DETAILS.items():
        if isinstance(exc, kind):
            return detail
    return UNKNOWN_ERROR


def message(context, resource_type: str, resource_uuid: str,
            action: tuple[str, str],
            detail: tuple[str, str]) -> dict[str, Any]:
    """One user message, as db.api takes it.

    ``project_id`` is the caller's (context), as in Cinder: an admin's
    failed request on a user's volume leaves the message in the admin's
    project.
    """
    return {'project_id': context.project_id,
            'request_id': context.request_id,
            'resource_type': resource_type,
            'resource_uuid': resource_uuid,
            'action_id': action[0],
            'detail_id': detail[0]}


def create_volume_failed(context, volume_id: str,
                         exc: BaseException) -> dict[str, Any]:
    """create_volume could not be scheduled: 001 with 003 or 001."""
    return message(context, VOLUME, volume_id, SCHEDULE_ALLOCATE_VOLUME,
                   detail_for(exc))


def extend_volume_failed(context, volume_id: str,
                         exc: BaseException) -> dict[str, Any]:
    """extend_volume found no room: 007 with 003."""
    return message(context, VOLUME, volume_id, EXTEND_VOLUME,
                   detail_for(exc))


def create_backup_failed(context, backup_id: str) -> dict[str, Any]:
    """No backup service fits: 013 with 024."""
    return message(context, VOLUME_BACKUP, backup_id, BACKUP_CREATE,
                   BACKUP_SCHEDULE_ERROR)
