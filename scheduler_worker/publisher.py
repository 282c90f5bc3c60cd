"""Publishing outbox messages in bulk, with the broker's confirms pipelined.

oslo.messaging publishes a message and waits for the broker's confirm
before the next, taking a pooled connection (and a new channel) each time:
about 250 us of CPU and a round trip per message. A batch of outcomes
needs all its messages confirmed, not each one before the next: each body
is built once, exactly as oslo.messaging's AMQP driver builds it (unique
id, packed context, envelope), and stored in the outbox. The first batch
to a destination on a connection publishes its first message through the
driver (which declares the exchange, and for a notification the topic's
queue, and reconnects if need be), then the rest on a confirm channel of
its own without waiting, and waits once for the broker to confirm them,
tracking every delivery tag. That channel stays open: the next batches on
the connection publish everything on it, one round trip each. Notifications
and RPC casts differ only in the transport and the driver call of the
first message.
"""

import contextlib
import json
import logging
import time
from typing import Any
import weakref

import amqp
from amqp import exceptions as amqp_exceptions
from amqp import spec
import oslo_messaging
from oslo_messaging._drivers import amqp as rpc_amqp
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import common as driver_common
from oslo_serialization import jsonutils
from oslo_utils import strutils

from scheduler_worker import ids

LOG = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 30.0

# NOTE: the properties kombu's producer gives an oslo.messaging message.
_PROPERTIES = {'content_type': 'application/json',
               'content_encoding': 'utf-8', 'delivery_mode': 2,
               'priority': 0, 'application_headers': {}}


NOTIFICATION = 'notification'
RPC_CAST = 'rpc_cast'


class NotConfirmed(Exception):
    """The broker did not confirm every message of a publish.

    ``confirmed`` holds the indexes (in the bodies published) of those it
    did confirm; the others may or may not have reached a queue.
    """

    def __init__(self, reason: str, confirmed=frozenset()) -> None:
        super().__init__(reason)
        self.confirmed = frozenset(confirmed)


def routing_key(topic: str, server: str | None) -> str:
    """The routing key of a message to a topic, or to one server of it."""
    return '%s.%s' % (topic, server) if server else topic


def wire_body(context: dict[str, Any], message: dict[str, Any],
              version: float) -> str:
    """The body the AMQP driver would put on the wire for this message.

    Built once, stored in the outbox, published as is (and again as is by
    the relay): the JSON work is done once per notification.
    """
    # NOTE: what rpc_amqp._add_unique_id, pack_context, serialize_msg and
    # jsonutils.dumps do, key for key and byte for byte, with one encoder
    # for every body rather than a new one per dumps().
    message = dict(message)
    message[rpc_amqp.UNIQUE_ID] = ids.uuid4().hex
    if not isinstance(context, dict):
        context = context.to_dict()
    for key, value in context.items():
        message['_context_' + key] = value
    if version == 2.0:
        message = {driver_common._VERSION_KEY:
                   driver_common._RPC_ENVELOPE_VERSION,
                   driver_common._MESSAGE_KEY: _encode(message)}
    return _encode(message)


# NOTE: jsonutils.dumps() is json.dumps(obj, default=to_primitive), which
# builds this encoder anew at every call.
_encode = json.JSONEncoder(default=jsonutils.to_primitive).encode


def masked(body: str) -> str:
    """A wire body fit for a log line: secrets (auth token, ...) masked."""
    context, message = _unpacked(body)
    message.update(('_context_%s' % key, value)
                   for key, value in context.items())
    return jsonutils.dumps(strutils.mask_dict_password(message))


def _unpacked(body: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(context, message) of a wire body, for drivers that want them."""
    message = jsonutils.loads(body)
    if driver_common._VERSION_KEY in message:
        message = jsonutils.loads(message[driver_common._MESSAGE_KEY])
    message.pop(rpc_amqp.UNIQUE_ID, None)
    context = {key[len('_context_'):]: message.pop(key)
               for key in list(message) if key.startswith('_context_')}
    return context, message


class Publisher:
    """Publishes wire bodies to the exchanges of the worker's transports.

    Notifications go through the notification transport, RPC casts
    through the RPC transport (by default the same one).
    """

    def __init__(self, transport: oslo_messaging.Transport,
                 version: float,
                 rpc_transport: oslo_messaging.Transport | None = None
                 ) -> None:
        self._transports = {NOTIFICATION: transport,
                            RPC_CAST: rpc_transport or transport}
        self._version = version
        # NOTE: the confirm channel kept open on each driver connection.
        self._channels: weakref.WeakKeyDictionary = \
            weakref.WeakKeyDictionary()

    def exchange(self, kind: str) -> str:
        """The exchange messages of this kind go to: the control exchange."""
        return self._transports[kind].conf.control_exchange

    def send(self, rows: list[dict[str, Any]], retry: int = 0) -> set[str]:
        """Publish outbox rows, each group of one destination in bulk.

        Returns the ids of the rows the broker confirmed; the others are
        logged, a warning per destination.
        """
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row['kind'], row['exchange'], row['topic'],
                               row['server']), []).append(row)
        confirmed = set()
        for (kind, exchange, topic, server), group in groups.items():
            try:
                self.publish(topic, [row['body'] for row in group],
                             retry=retry, kind=kind, exchange=exchange,
                             server=server)
                indexes = range(len(group))
            except NotConfirmed as exc:
                indexes, reason = exc.confirmed, exc
            except Exception as exc:
                # NOTE: whatever the driver raised (unreachable broker,
                # access refused, ...): the rows stay for the relay.
                indexes, reason = (), exc
            confirmed.update(group[i]['id'] for i in indexes)
            if len(indexes) < len(group):
                LOG.warning('%d of %d %s messages to %s on %s not '
                            'confirmed, they stay in the outbox: %s',
                            len(group) - len(indexes), len(group), kind,
                            routing_key(topic, server), exchange, reason)
        return confirmed

    def publish(self, topic: str, bodies: list[str], retry: int = 0,
                kind: str = NOTIFICATION, exchange: str | None = None,
                server: str | None = None) -> None:
        """Publish wire bodies (see wire_body) to one destination.

        Returns once the broker confirmed them all; raises NotConfirmed,
        saying which it confirmed, if it refused some or went silent.
        ``exchange`` defaults to the control exchange.
        """
        if not bodies:
            return
        transport = self._transports[kind]
        exchange = exchange or self.exchange(kind)
        driver = transport._driver
        if not isinstance(driver, amqpdriver.AMQPDriverBase):
            self._publish_one_by_one(transport, kind, oslo_messaging.Target(
                exchange=exchange, topic=topic, server=server), bodies,
                retry)
            return
        key = routing_key(topic, server)
        with driver._get_connection(driver_common.PURPOSE_SEND,
                                    retry=retry) as conn:
            # NOTE: as the driver sends them: notifications declare the
            # topic's queue (so that none is lost before a consumer
            # comes), casts only the exchange.
            send = conn.notify_send if kind == NOTIFICATION else \
                conn.topic_send
            _publish_confirmed(
                conn.connection,
                lambda msg: send(exchange, key, msg, retry=retry),
                exchange, key, bodies, self._channels)

    def _publish_one_by_one(self, transport, kind, target, bodies,
                            retry) -> None:
        """fake:// and other drivers: their own path, message by message."""
        for i, body in enumerate(bodies):
            context, message = _unpacked(body)
            try:
                if kind == NOTIFICATION:
                    transport._send_notification(
                        target, context, message, version=self._version,
                        retry=retry)
                else:
                    transport._send(target, context, message, retry=retry)
            except Exception as exc:
                raise NotConfirmed(str(exc), confirmed=range(i)) from exc


def _publish_confirmed(rabbit, publish_first, exchange: str,
                       routing_key: str, bodies: list[str],
                       channels: weakref.WeakKeyDictionary) -> None:
    """Publish bodies; return once the broker confirmed them all.

    On a connection that already published to this destination, every
    body goes on the confirm channel kept for it (``channels``, by driver
    connection): one round trip per batch, for the confirms. Otherwise
    the first goes through the driver, which declares what it declares
    for every message, reconnects if it has to, and waits for that first
    confirm; the rest on a new confirm channel, kept for the next batch.
    A kept channel that fails is dropped: the next publish starts over.
    """
    rabbit.reset()
    kept = channels.get(rabbit)
    if kept is not None and not kept.serves(rabbit, exchange, routing_key):
        channels.pop(rabbit, None)
        kept.close()
        kept = None
    if kept is None:
        _publish_on(rabbit, None, publish_first, exchange, routing_key,
                    bodies, channels)
        return
    try:
        _publish_on(rabbit, kept, publish_first, exchange, routing_key,
                    bodies, channels)
    except NotConfirmed as exc:
        if exc.__cause__ is None:
            raise
        # NOTE: the kept channel broke (the broker closed the connection,
        # say): once more the way a new connection starts, through the
        # driver, which reconnects. Those published but not confirmed go
        # again: consumers deduplicate on message_id.
        left = [index for index in range(len(bodies))
                if index not in exc.confirmed]
        if not left:
            return
        LOG.info('The confirm channel to %s on %s broke (%s); publishing '
                 '%d messages again', routing_key, exchange, exc, len(left))
        try:
            _publish_on(rabbit, None, publish_first, exchange, routing_key,
                        [bodies[index] for index in left], channels)
        except NotConfirmed as again:
            raise NotConfirmed(str(again), confirmed=set(exc.confirmed) | {
                left[index] for index in again.confirmed}) from again
        except Exception as again:
            raise NotConfirmed('%s: %s' % (type(again).__name__, again),
                               confirmed=exc.confirmed) from again


def _publish_on(rabbit, kept, publish_first, exchange: str,
                routing_key: str, bodies: list[str], channels) -> None:
    """Publish on a kept confirm channel, or start one (see above)."""
    if kept is None:
        publish_first(jsonutils.loads(bodies[0]))
        if len(bodies) == 1:
            return
        first, rest = 1, bodies[1:]
    else:
        first, rest = 0, bodies
    # NOTE: the driver's heartbeat thread drains this socket too, under
    # the connection lock: reading it at the same time, each thread gets
    # parts of the other's frames (UnexpectedFrame), or the confirms the
    # other read, and waits while the broker drops the connection for
    # missed heartbeats. The lock is held for one batch, well within the
    # heartbeat timeout. Confirms the heartbeat thread reads reach our
    # channel's callbacks all the same.
    failure = None
    with rabbit._connection_lock:
        try:
            if kept is None:
                kept = _ConfirmChannel(rabbit)
                channels[rabbit] = kept
            kept.declared.add((exchange, routing_key))
            confirms = kept.publish(exchange, routing_key, rest)
        except (OSError, amqp_exceptions.AMQPError) as exc:
            # NOTE: a timeout, or a broken channel or connection: what was
            # confirmed before stays confirmed.
            failure = exc
            confirms = kept.confirms if kept is not None else None
            channels.pop(rabbit, None)
            if kept is not None:
                kept.close()
    if failure is None and not confirms.nacked:
        return
    # NOTE: the (0-based) indexes in ``rest`` of the tags settled.
    acked = {tag - confirms.first for tag in confirms.acked} \
        if confirms is not None else set()
    nacked = confirms.nacked if confirms is not None else set()
    reason = ('the broker refused %d of %d messages'
              % (len(nacked), len(bodies))
              if failure is None else '%s: %s' % (
                  type(failure).__name__, failure))
    # NOTE: the n-th body published on the channel is rest[n]; bodies[0]
    # went through the driver when first is 1.
    done = {first + index for index in acked}
    raise NotConfirmed(reason, confirmed=done | set(range(first))) \
        from failure


class _ConfirmChannel:
    """A channel in confirm mode on one driver connection, kept open.

    Its delivery tags count every message published on it since
    confirm.select; a batch's are the next ones. ``declared`` holds the
    (exchange, routing key) pairs the driver declared on this connection
    before it came to this channel. Used under the connection lock.
    """

    def __init__(self, rabbit) -> None:
        # NOTE: kombu's ``connection`` property would open a new connection
        # if the driver's were gone, which the driver would not know of.
        if not rabbit.connection.connected:
            raise amqp_exceptions.RecoverableConnectionError(
                'the connection closed under the publish')
        self._connection = rabbit.connection._connection
        self.channel = self._connection.channel()
        self.published = 0
        self.confirms: _Confirms | None = None
        self.declared: set[tuple[str, str]] = set()
        self.channel.confirm_select()
        self.channel.events['basic_ack'].add(self._on_ack)
        self.channel.events['basic_nack'].add(self._on_nack)

    def serves(self, rabbit, exchange: str, routing_key: str) -> bool:
        """Open, on the driver's current connection, for a destination
        the driver declared."""
        # NOTE: kombu's ``_connection`` is the live py-amqp connection, or
        # None; its ``connection`` property would connect.
        current = getattr(rabbit.connection, '_connection', None)
        return (current is self._connection and self.channel.is_open and
                bool(getattr(current, 'connected', False)) and
                (exchange, routing_key) in self.declared)

    def publish(self, exchange: str, routing_key: str,
                bodies: list[str]) -> '_Confirms':
        """Publish bodies, wait for the broker to confirm them all."""
        self.confirms = confirms = _Confirms(len(bodies),
                                             first=self.published + 1)
        for body in bodies:
            self.published += 1
            self.channel._basic_publish(amqp.Message(body, **_PROPERTIES),
                                        exchange=exchange,
                                        routing_key=routing_key)
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        while confirms.outstanding:
            self.channel.wait([spec.Basic.Ack, spec.Basic.Nack],
                              timeout=max(deadline - time.monotonic(), 0))
        return confirms

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if self.confirms is not None:
            self.confirms.on_ack(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        if self.confirms is not None:
            self.confirms.on_nack(delivery_tag, multiple)

    def close(self) -> None:
        # NOTE: on a broken connection, closing fails too; the error that
        # broke it is the one reported.
        with contextlib.suppress(Exception):
            self.channel.close()


class _Confirms:
    """The broker's confirms of ``count`` messages published on a channel.

    Tracked per delivery tag (first..first + count - 1): an ack or a nack
    with ``multiple`` settles every outstanding tag up to its own, and a
    nack fails exactly the messages it names, whatever order they come in.
    """

    def __init__(self, count: int, first: int = 1) -> None:
        self.first = first
        self.outstanding = set(range(first, first + count))
        self.acked: set[int] = set()
        self.nacked: set[int] = set()

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        if multiple:
            # NOTE: AMQP 0-9-1: multiple with tag 0 means every
            # outstanding message.
            tags = {tag for tag in self.outstanding
                    if tag <= delivery_tag or delivery_tag == 0}
        else:
            tags = {delivery_tag} & self.outstanding
        self.outstanding -= tags
        return tags

    def on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self.acked |= self._settle(delivery_tag, multiple)

    def on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked |= self._settle(delivery_tag, multiple)
