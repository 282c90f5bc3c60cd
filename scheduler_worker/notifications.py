"""Notifications: Cinder's payloads, committed with the outcome, published.

A notification is written to the outbox in the transaction that records the
outcome it reports, published right after the commit, and deleted once the
broker confirmed it. If the worker dies in between, the row stays and the
relay (at start-up and every few seconds) publishes it again, under the
same ``message_id``: consumers deduplicate on it. Messages have exactly the
fields and envelope oslo.messaging's Notifier gives them.
"""

import datetime
import logging
import re
from typing import Any
import uuid

from oslo_config import cfg
import oslo_messaging
from oslo_utils import timeutils

from scheduler_worker import context as sw_context
from scheduler_worker import publisher
from scheduler_worker.db import api as db

LOG = logging.getLogger(__name__)

CREATE_END = 'scheduler.create_volume.end'
CREATE_ERROR = 'scheduler.create_volume'

_EVENT_METHOD = re.compile(r'^[a-z][a-z0-9_]{0,63}$')

# NOTE: the notifier drivers that put messages on the transport, and the
# envelope version each uses (oslo_messaging/notify/messaging.py).
_MESSAGING_DRIVERS = {'messagingv2': 2.0, 'messaging': 1.0}


def _isotime(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.isoformat()


def volume_usage(volume) -> dict[str, Any]:
    """Cinder's volume usage payload (volume_utils._usage_from_volume)."""
    def field(name):
        return getattr(volume, name) if volume.obj_attr_is_set(name) else None

    metadata = field('metadata') or {}
    return {
        'tenant_id': field('project_id'),
        'user_id': field('user_id'),
        'volume_id': field('id'),
        'display_name': field('display_name'),
        'display_description': field('display_description'),
        'size': field('size'),
        'status': field('status'),
        'host': field('host'),
        'availability_zone': field('availability_zone'),
        'volume_type': field('volume_type_id'),
        'snapshot_id': field('snapshot_id'),
        'created_at': _isotime(field('created_at')),
        'scheduled_at': _isotime(field('scheduled_at')),
        'launched_at': _isotime(field('launched_at')),
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
                   volume_properties: dict[str, Any], exc: BaseException,
                   method: str = 'create_volume') -> dict[str, Any]:
    """Cinder's scheduler failure payload (scheduler/utils.py)."""
    return {
        'request_spec': request_spec,
        'volume_properties': volume_properties,
        'volume_id': volume_id,
        'state': 'error',
        'method': method,
        'reason': exception_reason(exc),
    }


class Outbox:
    """Stages notifications for a transaction; publishes what was committed."""

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: oslo_messaging.Transport, host: str) -> None:
        group = conf.oslo_messaging_notifications
        versions = [_MESSAGING_DRIVERS[d] for d in group.driver
                    if d in _MESSAGING_DRIVERS]
        unsupported = set(group.driver) - set(_MESSAGING_DRIVERS) - {'noop'}
        if unsupported:
            LOG.warning('Notification drivers %s are not supported; only '
                        'messaging and messagingv2 are used',
                        ', '.join(sorted(unsupported)))
        self.enabled = bool(versions)
        self._version = max(versions) if versions else None
        self._topics = list(group.topics)
        self._publisher = publisher.Publisher(transport, self._version)
        self.publisher_id = 'scheduler.%s' % host

    def stage(self, context, event_type: str, priority: str,
              payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Outbox rows for one notification; empty when notifications are off.

        Store them in the transaction of the outcome, then publish().
        """
        if not self.enabled:
            return []
        message = {'message_id': str(uuid.uuid4()),
                   'publisher_id': self.publisher_id,
                   'event_type': event_type, 'priority': priority,
                   'payload': payload,
                   'timestamp': str(timeutils.utcnow())}
        body = publisher.wire_body(context.redacted_copy().to_dict(),
                                   message, self._version)
        return [{'message_id': message['message_id'], 'priority': priority,
                 'event_type': event_type, 'body': body}]

    def publish(self, rows: list[dict[str, Any]], retry: int = 0) -> int:
        """Publish committed rows, forget them once the broker confirmed.

        Rows stay in the outbox for the relay if the broker did not confirm
        them. Returns how many were published.
        """
        if not rows:
            return 0
        by_priority: dict[str, list] = {}
        for row in rows:
            by_priority.setdefault(row['priority'].lower(), []).append(row)
        sent = []
        for priority, group in by_priority.items():
            try:
                for topic in self._topics:
                    self._publisher.publish('%s.%s' % (topic, priority),
                                            [row['body'] for row in group],
                                            retry=retry)
            except Exception as exc:
                LOG.warning('%d %s notifications not confirmed yet, the '
                            'relay will retry: %s', len(group), priority,
                            exc)
                continue
            sent.extend(row['message_id'] for row in group)
        admin = sw_context.get_admin_context()
        if sent:
            db.outbox_delete(admin, sent)
        if len(sent) < len(rows):
            db.outbox_record_attempt(
                admin, list({r['message_id'] for r in rows} - set(sent)))
        return len(sent)

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Commit rows that report no stored outcome, then publish them."""
        if rows:
            db.outbox_add(sw_context.get_admin_context(), rows)
            self.publish(rows)

    def relay(self, older_than: float = 0, limit: int = 500,
              retry: int = 1) -> int:
        """Publish what earlier attempts (or a dead worker) left behind."""
        rows = db.outbox_get_pending(sw_context.get_admin_context(),
                                     older_than=older_than, limit=limit)
        if not rows:
            return 0
        published = self.publish(rows, retry=retry)
        LOG.info('Relayed %d of %d pending notifications', published,
                 len(rows))
        return published

    def report_failure(self, context, method: Any,
                       exc: BaseException) -> None:
        """Report a cast that could not be dispatched at all (poison)."""
        if isinstance(method, str) and _EVENT_METHOD.match(method):
            event_type = 'scheduler.%s' % method
        else:
            event_type, method = 'scheduler.invalid_message', repr(method)[:64]
        self.add(self.stage(context, event_type, 'ERROR',
                            create_failure(None, {}, {}, exc, method=method)))
