"""A tap on the lab's RabbitMQ: a queue of ours bound beside Cinder's.

Bound to the ``openstack`` topic exchange (every cast and call to a topic
or server), to fanout exchanges, and to the reply exchanges of RPC
callers, it receives a copy of each message as it was sent: exchange,
routing key, AMQP properties and the decoded oslo.messaging envelope.
"""

import json
import threading
import time
import uuid

import amqp.exceptions
import kombu


def decode(body) -> dict:
    """The oslo.messaging message inside a 2.0 envelope (or the body)."""
    if isinstance(body, bytes):
        body = body.decode()
    data = json.loads(body) if isinstance(body, str) else body
    if isinstance(data, dict) and 'oslo.message' in data:
        return json.loads(data['oslo.message'])
    return data


class WireTap:
    """Copies of the messages routed to the bindings, in arrival order."""

    def __init__(self, amqp_url: str) -> None:
        self.queue = 'lab-tap-%s' % uuid.uuid4().hex[:8]
        self.messages: list[dict] = []
        self.reconnects = 0
        self._url = amqp_url
        self._changed = threading.Condition()
        self._bound: dict[tuple[str, str], str | None] = {}
        self._stop = threading.Event()
        self._connect()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        self._conn = kombu.Connection(self._url)
        self._channel = self._conn.channel()
        self._channel.queue_declare(self.queue, exclusive=True,
                                    auto_delete=True)
        for (exchange, routing_key), kind in self._bound.items():
            self._bind(exchange, routing_key, kind)
        self._channel.basic_consume(self.queue, callback=self._received,
                                    no_ack=True)

    def bind(self, exchange: str, routing_key: str = '#',
             kind: str | None = None) -> None:
        """Bind to ``exchange``; declare it first when ``kind`` is given.

        A fanout exchange is declared as oslo.messaging declares it
        (transient, auto-delete), so that it may exist before its users.
        """
        if (exchange, routing_key) in self._bound:
            return
        with self._changed:
            self._bind(exchange, routing_key, kind)
        self._bound[(exchange, routing_key)] = kind

    def _bind(self, exchange: str, routing_key: str, kind) -> None:
        if kind:
            self._channel.exchange_declare(exchange, kind, durable=False,
                                           auto_delete=True)
        self._channel.queue_bind(self.queue, exchange, routing_key)

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                with self._changed:
                    self._conn.drain_events(timeout=0.05)
            except TimeoutError:
                pass
            except (OSError, amqp.exceptions.ConnectionError) as exc:
                # NOTE: a fault test elsewhere may restart the broker:
                # what was sent meanwhile is missed, the tap goes on.
                self._reconnect(exc)
            # NOTE: let bind() take the channel between two drains.
            time.sleep(0.01)

    def _reconnect(self, exc: Exception) -> None:
        while not self._stop.is_set():
            try:
                with self._changed:
                    self._conn.release()
                    self._connect()
                self.reconnects += 1
                return
            except (OSError, amqp.exceptions.ConnectionError):
                time.sleep(1)

    def _received(self, message) -> None:
        delivery = message.delivery_info
        record = {'received': time.time(),
                  'exchange': delivery.get('exchange'),
                  'routing_key': delivery.get('routing_key'),
                  'properties': dict(message.properties),
                  'headers': dict(message.headers or {}),
                  'body': message.body.decode() if isinstance(
                      message.body, bytes) else message.body}
        try:
            record['message'] = decode(message.body)
        except ValueError:
            record['message'] = None
        self.messages.append(record)
        self._changed.notify_all()

    def matching(self, method: str | None = None, since: float = 0,
                 exchange: str | None = None, **args) -> list[dict]:
        """Messages of ``method`` received after ``since`` (through
        ``exchange``) whose args include ``args``."""
        found = []
        for record in list(self.messages):
            message = record['message'] or {}
            if record['received'] < since or exchange not in (
                    None, record['exchange']):
                continue
            if method and message.get('method') != method:
                continue
            if any(message.get('args', {}).get(k) != v
                   for k, v in args.items()):
                continue
            found.append(record)
        return found

    def wait_for(self, timeout: float, method: str | None = None,
                 since: float = 0, exchange: str | None = None,
                 **args) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(method, since, exchange, **args)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError('no %s %r on the tap within %ss' % (
                    method, args, timeout))
            time.sleep(0.1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        # NOTE: closing reads frames too; a delivery read meanwhile is
        # recorded under the lock, as the drain thread records it.
        with self._changed:
            self._conn.release()
