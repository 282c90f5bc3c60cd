"""The lean reference pipeline: one thread, one transaction per batch.

kombu consumes with a prefetch of 200; up to 64 casts are gathered within
2 ms of the first; their volumes, metadata and outbox rows are inserted in
one transaction (multi-row ``INSERT ... ON CONFLICT DO NOTHING``, a
redelivered volume is skipped) with one capacity claim on the pool, and
committed; the notifications of the new volumes are published and the
broker's confirms awaited; their outbox rows are deleted; one
``basic.ack multiple`` acknowledges the batch. The least a worker with the
worker's guarantees (ack after commit, a transactional outbox, DB-side
claims) does for a cast: what the worker's throughput is held against.
"""

import collections
from collections.abc import Callable
import datetime
import sys
import time

import kombu
import psycopg2
import psycopg2.extras

from benchmarks import broker
from benchmarks.lean import rows

_INSERT_VOLUMES = (
    'INSERT INTO volumes (%s) VALUES %%s ON CONFLICT (id) DO NOTHING '
    'RETURNING id' % ', '.join(rows.VOLUME_COLUMNS))
_INSERT_METADATA = ('INSERT INTO volume_metadata (volume_id, key, value, '
                    'created_at, deleted) VALUES %s')
# NOTE: the worker's outbox row: the notification's id as its own, and
# the relay's next attempt one interval away, as the worker stages it.
_INSERT_OUTBOX = ('INSERT INTO scheduler_worker_outbox (id, kind, '
                  'exchange, topic, server, body, created_at, attempts, '
                  'next_attempt_at) VALUES %s ON CONFLICT (id) DO NOTHING')
# NOTE: as the worker claims on a thick pool: one conditional update, so
# that concurrent processes never oversell it.
_CLAIM = ('UPDATE scheduler_worker_pools '
          'SET allocated_gb = allocated_gb + %(size)s '
          'WHERE id = %(id)s AND NOT deleted AND (physical_limit_gb IS NULL '
          'OR allocated_gb + %(size)s <= physical_limit_gb)')
_DELETE_OUTBOX = 'DELETE FROM scheduler_worker_outbox WHERE id = ANY(%s)'
# NOTE: [scheduler] outbox_relay_interval's default.
RELAY_INTERVAL = datetime.timedelta(seconds=10)
_POOL = ('SELECT id, host, availability_zone FROM scheduler_worker_pools '
         'WHERE NOT deleted ORDER BY id LIMIT 1')


class Gatherer:
    """Batches of up to ``size`` messages, gathered within ``window`` s.

    ``drain(timeout)`` waits up to ``timeout`` s for the next event and
    raises TimeoutError if none came; the consumer's callback ``add``s
    each message. The window opens when a batch's first message is in.
    """

    def __init__(self, drain: Callable[[float], object], size: int = 64,
                 window: float = 0.002,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.drain = drain
        self.size = size
        self.window = window
        self.clock = clock
        self.pending: collections.deque = collections.deque()

    def add(self, message: object) -> None:
        self.pending.append(message)

    def _drained(self, timeout: float) -> bool:
        try:
            self.drain(timeout)
        except TimeoutError:
            return False
        return True

    def next_batch(self, idle: float = 1.0) -> list:
        """Wait for a first message, then for more until full or late."""
        while not self.pending:
            self._drained(idle)
        deadline = self.clock() + self.window
        while len(self.pending) < self.size:
            remaining = deadline - self.clock()
            if remaining <= 0 or not self._drained(remaining):
                break
        return [self.pending.popleft()
                for _ in range(min(self.size, len(self.pending)))]


class Pipeline:
    """Consumes one queue until stopped; counts what it did."""

    def __init__(self, amqp_url: str, queue: str, dsn: str, host: str,
                 prefetch: int = 200, batch_size: int = 64,
                 window: float = 0.002) -> None:
        self.publisher_id = 'scheduler.%s' % host
        self.casts = self.batches = self.refused = 0
        self.database = psycopg2.connect(dsn)
        self.pool = self._pool()
        # NOTE: publishing and consuming on separate connections, as
        # oslo.messaging does: RabbitMQ's flow control throttles a
        # publishing connection, which must not hold up the acks.
        self.consuming = broker.connect(amqp_url)
        self.publisher = broker.Publisher(amqp_url)
        self._declare_notification_queue()
        self.gatherer = Gatherer(
            lambda timeout: self.consuming.drain_events(timeout=timeout),
            batch_size, window)
        self.consumer = kombu.Consumer(
            self.consuming, queues=[kombu.Queue(queue, no_declare=True)],
            on_message=self.gatherer.add, prefetch_count=prefetch,
            no_ack=False, auto_declare=False)

    def _pool(self) -> rows.Pool:
        with self.database, self.database.cursor() as cursor:
            cursor.execute(_POOL)
            found = cursor.fetchone()
        if found is None:
            raise RuntimeError('no pool to place volumes on: register one '
                               '(scheduler-worker-manage backend register)')
        return rows.Pool(*found)

    def _declare_notification_queue(self) -> None:
        # NOTE: oslo.messaging's notifier declares the queue of the topic
        # it publishes to, so that notifications wait for a consumer.
        exchange = kombu.Exchange(broker.EXCHANGE, 'topic', durable=False)
        kombu.Queue(broker.NOTIFICATIONS_INFO, exchange,
                    routing_key=broker.NOTIFICATIONS_INFO,
                    durable=False)(self.publisher.channel).declare()

    def run(self) -> None:
        """Consume, batch after batch, until interrupted."""
        self.consumer.consume()
        while True:
            self.handle(self.gatherer.next_batch())

    def handle(self, messages: list[kombu.Message]) -> None:
        """Store, notify and acknowledge the casts of one batch."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        casts = []
        for message in messages:
            try:
                casts.append(rows.decode(message.body))
            except rows.Refused as exc:
                self.refused += 1
                print('lean: refused a cast: %s' % exc, file=sys.stderr)
        planned = rows.plan(casts, self.pool, self.publisher_id, now)
        stored = self._store(planned, now) if planned else []
        for volume_id in stored:
            self.publisher.publish(planned[volume_id].body,
                                   broker.NOTIFICATIONS_INFO)
        self.publisher.flush()
        if stored:
            self._forget([planned[v].message_id for v in stored])
        messages[-1].ack(multiple=True)
        self.casts += len(messages)
        self.batches += 1

    def _store(self, planned: dict[str, rows.Planned],
               now: datetime.datetime) -> list[str]:
        """One transaction; the ids of the volumes it created."""
        with self.database, self.database.cursor() as cursor:
            created = [row[0] for row in psycopg2.extras.execute_values(
                cursor, _INSERT_VOLUMES, [p.volume for p in planned.values()],
                page_size=len(planned), fetch=True)]
            if not created:
                return []
            metadata = [row for v in created for row in planned[v].metadata]
            if metadata:
                psycopg2.extras.execute_values(
                    cursor, _INSERT_METADATA, metadata,
                    page_size=len(metadata))
            psycopg2.extras.execute_values(
                cursor, _INSERT_OUTBOX,
                [(planned[v].message_id, 'notification', broker.EXCHANGE,
                  broker.NOTIFICATIONS_INFO, None, planned[v].body, now, 0,
                  now + RELAY_INTERVAL) for v in created],
                page_size=len(created))
            size = sum(planned[v].size for v in created)
            cursor.execute(_CLAIM, {'size': size, 'id': self.pool.id})
            if cursor.rowcount != 1:
                raise RuntimeError('pool %s has no room for %d GiB'
                                   % (self.pool.host, size))
        return created

    def _forget(self, message_ids: list[str]) -> None:
        with self.database, self.database.cursor() as cursor:
            cursor.execute(_DELETE_OUTBOX, (message_ids,))

    def close(self) -> None:
        for close in (self.consuming.release, self.publisher.close,
                      self.database.close):
            try:
                close()
            except Exception as exc:
                print('lean: closing: %r' % exc, file=sys.stderr)
