"""How casts leave RabbitMQ: oslo.messaging's listener, without its early ack.

oslo.messaging's RPC listener acknowledges each message in the consumer
callback, before the endpoint runs (amqpdriver.RpcAMQPListener): a worker
that dies then loses the cast. We listen exactly as its driver does (same
connection handling, queue names, declaration arguments, envelope), but
with the listener its notification servers use, whose messages stay
unacknowledged until the server says what became of them.
"""

import logging
import select
import threading
import time

import oslo_messaging
from oslo_messaging._drivers import amqp as rpc_amqp
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import base as driver_base
from oslo_messaging._drivers import common as driver_common
from oslo_utils import excutils
from oslo_utils import timeutils

LOG = logging.getLogger(__name__)

# NOTE: the longest the polling thread blocks on the socket: the longest an
# acknowledgement waits to be sent once its cast is settled.
MAX_WAIT = 0.05

# NOTE: the longest a read ahead (see CastListener.read_ahead) blocks: the
# longest a handler that frees meanwhile waits for its batch.
READ_AHEAD_WAIT = 0.005


class IncomingMessage(amqpdriver.NotificationAMQPIncomingMessage):
    """A cast that is acknowledged, requeued or rejected explicitly.

    Every operation runs on the polling thread (kombu is not thread safe).
    """

    def reject(self) -> None:
        """Drop the message, or dead-letter it if the queue has a DLX."""
        def _do_reject():
            try:
                # NOTE: self.message is the driver's RabbitMessage; its
                # kombu message is the only handle on basic.reject.
                self.message._raw_message.reject(requeue=False)
            except Exception as exc:
                LOG.warning('Failed to reject a message: %s', exc)
        self._message_operations_handler.do(_do_reject)


class _RedeliveriesWelcome(rpc_amqp._MsgIdCache):
    """A duplicate filter that lets every message through.

    oslo.messaging's filter skips a message whose ``_unique_id`` it saw
    recently without acknowledging it, so a redelivery after a reconnect
    (or a client's retried publish) would sit unacknowledged forever. Our
    handling is idempotent: duplicates are cheaper than a stuck queue.
    """

    def check_duplicate_message(self, message_data):
        return message_data.pop(rpc_amqp.UNIQUE_ID, None)

    def add(self, msg_id):
        pass


class ConsumerProgress:
    """Whether the consumer is attached to its queues, and still polling.

    What systemd's READY=1 and WATCHDOG=1 are based on (scheduler_worker.
    systemd): ``attached`` once basic.consume went through for every
    queue, ``consuming()`` while polls keep ending that way.
    """

    # NOTE: an idle listener gets through a poll at least every
    # ACK_REQUEUE_EVERY_SECONDS_MAX; twice that without one is a stall.
    STALE_AFTER = 2 * amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX

    def __init__(self) -> None:
        self.attached = threading.Event()
        self._last = None
        self._always = False

    def mark(self) -> None:
        self._last = time.monotonic()
        self.attached.set()

    def mark_always(self) -> None:
        """For drivers with nothing to attach (fake:// in tests)."""
        self._always = True
        self.mark()

    def consuming(self) -> bool:
        if self._always:
            return True
        last = self._last
        return last is not None and (
            time.monotonic() - last < self.STALE_AFTER)


class _WatchedConnection:
    """The listener's connection, reporting each poll that ends attached.

    NOTE: impl_rabbit declares the queues at listen() but sends
    basic.consume only on the first poll (Connection.consume). Its
    ``_new_tags`` holds the consumers still to be sent, and a reconnection
    fills it again; a poll is "attached" when it ends with the set empty on
    a live connection.
    """

    def __init__(self, conn, progress: ConsumerProgress) -> None:
        self._conn = conn
        self._progress = progress

    def consume(self, timeout=None):
        try:
            return self._conn.consume(timeout=timeout)
        finally:
            if self._attached():
                self._progress.mark()

    def _attached(self) -> bool:
        try:
            rabbit = self._conn.connection
            return not rabbit._new_tags and rabbit.connection.connected
        except Exception:
            return False

    def __getattr__(self, name):
        return getattr(self._conn, name)


class CastListener(amqpdriver.AMQPListener):
    """The driver's listener, handing over casts in batches.

    oslo.messaging fetches one message per ``consume()`` (each through its
    reconnection wrapper) and, waiting for a batch to fill, lets its poll
    timeout grow to seconds; acknowledgements, which only this thread may
    send, wait as long, and with the prefetch window full of casts waiting
    for theirs, the queue stalls. Here a poll hands over what has arrived,
    reading whatever more is ready on the socket, within ``batch_timeout``,
    and never sleeps longer than MAX_WAIT with acknowledgements pending.
    """

    message_cls = IncomingMessage

    def __init__(self, driver, conn, progress: ConsumerProgress) -> None:
        super().__init__(driver, conn)
        self.msg_id_cache = _RedeliveriesWelcome()
        self.conn = _WatchedConnection(conn, progress)

    def __call__(self, message) -> None:
        """Take a message in, as the driver's listener does, minus a copy.

        oslo.messaging unpacks the context into an RpcContext, then hands
        the message a deep copy of it (CommonRpcContext.to_dict): a copy
        of every value of a dict that was decoded for this message alone
        and that nothing else holds. The same dict, without the copy.
        """
        ctxt = {key[9:]: message.pop(key) for key in list(message)
                if key.startswith('_context_')}
        msg_id = message.pop('_msg_id', None)
        reply_q = message.pop('_reply_q', None)
        ctxt['client_timeout'] = message.pop('_timeout', None)
        unique_id = self.msg_id_cache.check_duplicate_message(message)
        self.incoming.append(self.message_cls(
            self, ctxt, message, unique_id, msg_id, reply_q,
            ctxt['client_timeout'], self._obsolete_reply_queues,
            self._message_operations_handler))

    def poll(self, timeout=None, batch_size=1, batch_timeout=None):
        stopwatch = timeutils.StopWatch(duration=timeout).start()
        while not self._shutdown.is_set():
            self._message_operations_handler.process()
            if self.incoming:
                self._read_ready(batch_size, batch_timeout)
                return self._take(batch_size)
            left = stopwatch.leftover(return_none=True)
            if left is not None and left <= 0:
                return []
            try:
                self.conn.consume(timeout=MAX_WAIT if left is None
                                  else min(MAX_WAIT, left))
            except driver_common.Timeout:
                pass
        # NOTE: stopped: hand over what was fetched; the server puts it
        # back in the queue. Then the driver may close the connection.
        self._message_operations_handler.process()
        if self.incoming:
            return self._take(batch_size)
        self._shutoff.set()
        return []

    def read_ahead(self, limit: int, timeout: float) -> None:
        """Fetch the next batch while every handler is busy.

        Sends the acknowledgements that are due, then reads what arrives
        within ``timeout`` into the buffer, up to ``limit`` casts. Parsing
        frames needs the interpreter lock, which the busy handlers hold
        most of the time: a fetch formed only once a handler is free gets
        what it can parse within the batch window, a dozen casts, where a
        fetch read ahead is a full batch when the handler frees.
        """
        self._message_operations_handler.process()
        if not self.incoming:
            try:
                self.conn.consume(timeout=timeout)
            except driver_common.Timeout:
                pass
        elif len(self.incoming) < limit and _bytes_waiting(
                self.conn.connection.connection, wait=timeout):
            self._read_ready(limit, timeout)

    def _take(self, batch_size: int) -> list:
        taken = self.incoming[:batch_size]
        del self.incoming[:batch_size]
        return taken

    def _read_ready(self, batch_size: int,
                    batch_timeout: float | None) -> None:
        """Read the casts already arriving, for at most ``batch_timeout``.

        A batch forms only from what is already on its way: while bytes
        wait on the socket (or in py-amqp's buffer), the frames are read;
        once none do, the batch is handed over. A cast alone in the queue
        is handled at once, with no window spent waiting for company.

        Straight from py-amqp, without the driver's reconnection wrapper:
        any error ends the batch, and the next consume() deals with it.
        """
        # NOTE: self.conn (watched) is the driver's connection context;
        # its connection is the driver's Connection, which wraps kombu's.
        kombu_connection = self.conn.connection.connection
        deadline = time.monotonic() + (batch_timeout or 0)
        while len(self.incoming) < batch_size:
            left = deadline - time.monotonic()
            # NOTE: never a zero timeout: py-amqp then reads without
            # blocking and spins on EAGAIN until a half-read frame is whole.
            if left <= 0 or not _bytes_waiting(kombu_connection):
                return
            amqp_connection = _live(kombu_connection)
            if amqp_connection is None:
                return
            try:
                kombu_connection.transport.drain_events(amqp_connection,
                                                        timeout=left)
            except Exception:
                return


def _live(kombu_connection):
    """kombu's live py-amqp connection, or None: never a new one.

    NOTE: kombu's ``connection`` property, which its drain_events() reads,
    opens a new connection when the current one is gone (a broker
    restart), behind the driver's back: the driver then finds a connected
    kombu connection, never reconnects nor sends basic.consume again, and
    polls a connection with no channel and no consumer for ever.
    """
    if not kombu_connection.connected:
        return None
    return kombu_connection._connection


def _bytes_waiting(kombu_connection, wait: float = 0) -> bool:
    """Whether a frame has begun to arrive (buffered, or on the socket),
    or does within ``wait`` seconds."""
    # NOTE: kombu's ``_connection``, not its ``connection`` property,
    # which would reconnect here (see _live). A connection that is gone
    # has nothing waiting: the driver's next consume() reconnects.
    amqp_connection = _live(kombu_connection)
    if amqp_connection is None:
        return False
    try:
        transport = amqp_connection.transport
        if transport._read_buffer:
            return True
        return bool(select.select([transport.sock], [], [], wait)[0])
    except Exception:
        return False


class GatedListenerAdapter(driver_base.PollStyleListenerAdapter):
    """Polls when a handler thread is free; says when stopping begins.

    oslo.messaging's adapter polls again as soon as it has handed a fetch
    over: under load its fetches, formed while every handler is busy, are
    as small as the trickle of acknowledgements that frees prefetch room,
    and queue up in the executor. Here a fetch is handed over when a
    handler can take it (``free_handlers``, which the server releases when
    it is done with a fetch), and while none can, the next one is read
    ahead: a full batch, ready when a handler frees.

    On stop, oslo.messaging hands over the casts already fetched; with
    ``stopping`` set, the server returns them to the queue instead of
    starting them.
    """

    def __init__(self, listener, batch_size: int,
                 batch_timeout: float | None, stopping: threading.Event,
                 free_handlers: threading.Semaphore) -> None:
        super().__init__(listener, batch_size, batch_timeout)
        self._stopping = stopping
        self._free_handlers = free_handlers

    @excutils.forever_retry_uncaught_exceptions
    def _runner(self):
        listener = self._poll_style_listener
        while self._started:
            if not self._free_handlers.acquire(blocking=False):
                # NOTE: every handler is busy: read their next batch
                # meanwhile, a short read at a time, so that a handler that
                # frees waits little for its batch.
                if len(listener.incoming) < self.batch_size:
                    listener.read_ahead(self.batch_size, READ_AHEAD_WAIT)
                    continue
                # NOTE: wakes at least every MAX_WAIT, so a stop is seen.
                if not self._free_handlers.acquire(timeout=MAX_WAIT):
                    continue
            self._hand_over(listener.poll(
                batch_size=self.batch_size,
                batch_timeout=self.batch_timeout))
        # NOTE: stopped: what was fetched is handed over (and requeued).
        while True:
            self._free_handlers.acquire()
            incoming = self._poll_style_listener.poll(
                batch_size=self.batch_size,
                batch_timeout=self.batch_timeout)
            self._hand_over(incoming)
            if not incoming:
                return

    def _hand_over(self, incoming) -> None:
        if incoming:
            self.on_incoming_callback(incoming)
        else:
            self._free_handlers.release()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()


def listen(transport: oslo_messaging.Transport,
           target: oslo_messaging.Target, batch_size: int,
           batch_timeout: float | None,
           stopping: threading.Event,
           free_handlers: threading.Semaphore,
           progress: ConsumerProgress | None = None) -> driver_base.Listener:
    """Consume ``target`` like the driver's own listen(), acks deferred.

    Transports other than AMQP ones (fake:// in tests) keep their driver's
    listener: they have no acknowledgement to defer.
    """
    progress = progress or ConsumerProgress()
    driver = transport._driver
    if not isinstance(driver, amqpdriver.AMQPDriverBase):
        progress.mark_always()
        return transport._listen(target, batch_size, batch_timeout)
    conn = driver._get_connection(driver_common.PURPOSE_LISTEN)
    listener = CastListener(driver, conn, progress)
    exchange = driver._get_exchange(target)
    conn.declare_topic_consumer(exchange_name=exchange, topic=target.topic,
                                callback=listener)
    conn.declare_topic_consumer(
        exchange_name=exchange,
        topic='%s.%s' % (target.topic, target.server), callback=listener)
    conn.declare_fanout_consumer(target.topic, listener)
    return GatedListenerAdapter(listener, batch_size, batch_timeout,
                                stopping, free_handlers)
