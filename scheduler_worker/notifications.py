"""Notifications the worker emits: Cinder's payload shapes, sent after commit."""

import datetime
import logging
from typing import Any

LOG = logging.getLogger(__name__)

CREATE_END = 'scheduler.create_volume.end'
CREATE_ERROR = 'scheduler.create_volume'


def _isotime(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.isoformat()


def volume_usage(volume) -> dict[str, Any]:
    """Cinder's volume usage payload (volume_utils._usage_from_volume)."""
    metadata = volume.metadata or {}
    return {
        'tenant_id': volume.project_id,
        'user_id': volume.user_id,
        'volume_id': volume.id,
        'display_name': volume.display_name,
        'display_description': volume.display_description,
        'size': volume.size,
        'status': volume.status,
        'host': volume.host,
        'availability_zone': volume.availability_zone,
        'volume_type': volume.volume_type_id,
        'snapshot_id': volume.snapshot_id,
        'created_at': _isotime(volume.created_at),
        'scheduled_at': _isotime(volume.scheduled_at),
        'launched_at': _isotime(volume.launched_at),
        'metadata': [{'key': k, 'value': v} for k, v in metadata.items()],
        'volume_attachment': [],
        'replication_status': None,
        'replication_extended_status': None,
        'replication_driver_data': None,
    }


def exception_reason(exc: BaseException) -> str:
    """How Cinder spells a failure reason: ``NoValidBackend('...')``."""
    return '%s(%r)' % (type(exc).__name__, str(exc))


def create_failure(volume_id: str | None, request_spec: dict[str, Any],
                   volume_properties: dict[str, Any],
                   exc: BaseException) -> dict[str, Any]:
    """Cinder's scheduler failure payload (scheduler/utils.py)."""
    return {
        'request_spec': request_spec,
        'volume_properties': volume_properties,
        'volume_id': volume_id,
        'state': 'error',
        'method': 'create_volume',
        'reason': exception_reason(exc),
    }


def notify_create_end(notifier, context, volume) -> None:
    notifier.info(context, CREATE_END, volume_usage(volume))


def notify_create_error(notifier, context, payload: dict[str, Any]) -> None:
    notifier.error(context, CREATE_ERROR, payload)
