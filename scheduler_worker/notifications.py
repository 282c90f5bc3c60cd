"""Notifications: Cinder's payloads, committed with the outcome, published.

A notification is written to the outbox in the transaction that records the
outcome it reports, published right after the commit, and deleted once the
broker confirmed it. If the publish fails or the worker dies in between,
the row stays and the relay (at start-up and every few seconds) publishes
it again, byte for byte: consumers deduplicate on ``message_id``. Each row
is claimed before it is published, so that one process at a time sends
it. Messages have exactly the fields and envelope oslo.messaging's Notifier
gives them; RPC casts (``Outbox.stage_cast``) go the same way.
"""

from collections.abc import Mapping
import datetime
import logging
import re
import time
from typing import Any

from oslo_config import cfg
from oslo_db import exception as db_exc
import oslo_messaging
from oslo_utils import timeutils

from scheduler_worker import context as sw_context
from scheduler_worker import ids
from scheduler_worker import metrics
from scheduler_worker import publisher
from scheduler_worker.db import api as db

LOG = logging.getLogger(__name__)

CREATE_END = 'scheduler.create_volume.end'
CREATE_ERROR = 'scheduler.create_volume'

# NOTE: rows a relay pass claims at once: one transaction held across one
# bulk publish.
RELAY_BATCH = 500

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


def volume_usage(volume: Mapping[str, Any]) -> dict[str, Any]:
    """Cinder's volume usage payload (volume_utils._usage_from_volume).

    ``volume``: its fields, those not set left out (a new Volume's
    obj_get_changes()).
    """
    field = volume.get

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
                   method: str = 'create_volume',
                   state: Any = 'error') -> dict[str, Any]:
    """Cinder's scheduler failure payload (scheduler/utils.py).

    ``state`` is what the volume was set to: 'error', or for a refused
    extend_volume the dict Cinder's _set_volume_state_and_notify writes.
    """
    return {
        'request_spec': request_spec,
        'volume_properties': volume_properties,
        'volume_id': volume_id,
        'state': state,
        'method': method,
        'reason': exception_reason(exc),
    }


class Outbox:
    """Stages messages for a transaction; sends what was committed, once.

    Every send, right after the commit and by the relay, claims its rows
    first (db.outbox_send): while one process publishes a row no other
    one does, and a row is published again only after an attempt failed
    or its process died.
    """

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: oslo_messaging.Transport, host: str,
                 rpc_transport: oslo_messaging.Transport | None = None
                 ) -> None:
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
        self._publisher = publisher.Publisher(transport, self._version,
                                              rpc_transport=rpc_transport)
        self.publisher_id = 'scheduler.%s' % host
        self._interval = conf.scheduler.outbox_relay_interval
        self._relay_delay = datetime.timedelta(seconds=self._interval)
        self._exchanges = {kind: self._publisher.exchange(kind)
                           for kind in (publisher.NOTIFICATION,
                                        publisher.RPC_CAST)}
        self._max_delay = conf.scheduler.outbox_retry_max_delay
        self._max_attempts = conf.scheduler.outbox_max_attempts

    def _row(self, kind: str, topic: str, server: str | None,
             body: str, now=None, row_id: str | None = None
             ) -> dict[str, Any]:
        now = now or timeutils.utcnow()
        # NOTE: the relay leaves a new row to the handler that committed
        # it for one interval: it is most likely being published.
        return {'id': row_id or ids.generate_uuid(), 'kind': kind,
                'exchange': self._exchanges[kind], 'topic': topic,
                'server': server, 'body': body, 'created_at': now,
                'attempts': 0,
                'next_attempt_at': now + self._relay_delay}

    def stage(self, context, event_type: str, priority: str,
              payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Outbox rows for one notification, one per topic; empty when off.

        Store them in the transaction of the outcome, then publish().
        """
        if not self.enabled:
            return []
        now = timeutils.utcnow()
        message_id = ids.generate_uuid()
        message = {'message_id': message_id,
                   'publisher_id': self.publisher_id,
                   'event_type': event_type, 'priority': priority,
                   'payload': payload, 'timestamp': str(now)}
        redacted = context.redacted_copy().to_dict()
        # NOTE: the row of the first topic is known by the message's id,
        # the others (the same message to more topics) by ids of their own.
        return [self._row(publisher.NOTIFICATION,
                          '%s.%s' % (topic, priority.lower()), None,
                          publisher.wire_body(redacted, message,
                                              self._version),
                          now=now, row_id=None if index else message_id)
                for index, topic in enumerate(self._topics)]

    def stage_cast(self, context, topic: str, server: str | None,
                   method: str, args: dict[str, Any],
                   version: str) -> list[dict[str, Any]]:
        """The outbox row of an RPC cast, as oslo.messaging's client casts.

        ``args`` are already serialized (object primitives). The context
        travels whole, auth token included, as Cinder's services send it.
        """
        message = {'method': method, 'args': args, 'version': version}
        return [self._row(publisher.RPC_CAST, topic, server,
                          publisher.wire_body(context.to_dict(), message,
                                              2.0))]

    def publish(self, rows: list[dict[str, Any]], retry: int = 0) -> int:
        """Send committed rows now, unless another process already took them.

        Rows the broker did not confirm stay for the relay. Returns how
        many were confirmed.
        """
        if not rows:
            return 0
        try:
            return self._dispatch(retry, {row['id']: row for row in rows})[1]
        except db_exc.DBError as exc:
            # NOTE: the outcome is committed; failing its handling now
            # would only redeliver a cast that is done.
            LOG.warning('Could not claim %d outbox rows to publish them, '
                        'the relay will: %s', len(rows), exc)
            return 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Commit rows that report no stored outcome, then publish them."""
        if rows:
            db.outbox_add(sw_context.get_admin_context(), rows)
            self.publish(rows)

    def relay(self, limit: int = RELAY_BATCH, retry: int = 1) -> int:
        """Send the due rows that failed, or that a dead worker left.

        Goes on while it finds full batches, for one interval at most.
        Returns how many the broker confirmed.
        """
        confirmed = 0
        stop_at = time.monotonic() + self._interval
        while True:
            claimed, sent = self._dispatch(retry, limit=limit)
            confirmed += sent
            if claimed:
                LOG.info('Relayed %d of %d due outbox messages', sent,
                         claimed)
            if claimed < limit or sent < claimed or \
                    time.monotonic() > stop_at:
                return confirmed

    def pending(self) -> dict[str, tuple[int, float]]:
        """{kind: (rows waiting, seconds the oldest has waited)}."""
        stats = db.outbox_stats(sw_context.get_admin_context())
        now = timeutils.utcnow()
        return {kind: (stats[kind]['pending'],
                       (now - stats[kind]['oldest']).total_seconds())
                if kind in stats else (0, 0.0)
                for kind in (publisher.NOTIFICATION, publisher.RPC_CAST)}

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failed publish of a row."""
        return min(self._max_delay,
                   self._interval * 2 ** min(attempt - 1, 32))

    def _dispatch(self, retry: int, staged: dict | None = None,
                  limit: int = RELAY_BATCH) -> tuple[int, int]:
        """Claim and send ``staged`` rows, or due ones: (claimed, sent)."""
        confirmed = []

        def send(claimed):
            if staged is not None:
                claimed = [dict(staged[row['id']], attempt=row['attempt'])
                           for row in claimed]
            confirmed.extend(self._publisher.send(claimed, retry=retry))
            return self._settlement(claimed, set(confirmed))
        claimed = db.outbox_send(sw_context.get_admin_context(), send,
                                 ids=None if staged is None else list(staged),
                                 limit=limit)
        return claimed, len(confirmed)

    def _settlement(self, rows, confirmed: set[str]) -> dict[str, Any]:
        """What becomes of each row: forgotten (None), or tried again then."""
        outcome: dict[str, Any] = dict.fromkeys(confirmed)
        now = timeutils.utcnow()
        failed: dict[str, int] = {}
        for row in rows:
            if row['id'] in confirmed:
                continue
            failed[row['kind']] = failed.get(row['kind'], 0) + 1
            if self._max_attempts and row['attempt'] >= self._max_attempts:
                self._give_up(row)
                outcome[row['id']] = None
            else:
                outcome[row['id']] = now + datetime.timedelta(
                    seconds=self.retry_delay(row['attempt']))
        for kind, count in failed.items():
            metrics.outbox_failed(kind, count)
        return outcome

    def _give_up(self, row: dict[str, Any]) -> None:
        LOG.error('Giving up on a %s to %s on exchange %s after %d failed '
                  'attempts ([scheduler] outbox_max_attempts); dropped: %s',
                  row['kind'], publisher.routing_key(row['topic'],
                                                     row['server']),
                  row['exchange'], row['attempt'],
                  publisher.masked(row['body']))
        metrics.outbox_dropped(row['kind'])

    def report_failure(self, context, method: Any,
                       exc: BaseException) -> None:
        """Report a cast that could not be dispatched at all (poison)."""
        if isinstance(method, str) and _EVENT_METHOD.match(method):
            event_type = 'scheduler.%s' % method
        else:
            event_type, method = 'scheduler.invalid_message', repr(method)[:64]
        self.add(self.stage(context, event_type, 'ERROR',
                            create_failure(None, {}, {}, exc, method=method)))
