"""RabbitMQ for the benchmarks: confirmed publishes, depths, purges."""


import amqp
import kombu

from benchmarks import casts

EXCHANGE = 'openstack'
NOTIFICATIONS_INFO = 'notifications.info'
NOTIFICATIONS_ERROR = 'notifications.error'


class PublishRefused(Exception):
    """The broker nacked a publish: the cast may not have been queued."""


def connect(amqp_url: str) -> kombu.Connection:
    connection = kombu.Connection(amqp_url, connect_timeout=10)
    connection.ensure_connection(max_retries=3)
    return connection


class Publisher:
    """Publishes to the control exchange with pipelined publisher confirms.

    At most ``window`` publishes wait for their confirm at once; flush()
    returns once the broker confirmed every one.
    """

    def __init__(self, amqp_url: str, window: int = 500) -> None:
        self.connection = connect(amqp_url)
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.channel.events['basic_ack'].add(self._on_ack)
        self.channel.events['basic_nack'].add(self._on_nack)
        self.window = window
        self.sent = 0
        self.confirmed = 0
        self.refused = 0
        self._properties = dict(casts.PROPERTIES, application_headers={})

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        # NOTE: delivery tags count publishes on this channel from 1, and
        # RabbitMQ confirms in order, so the tag is the confirmed total.
        self.confirmed = max(self.confirmed, delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self.refused += 1
        self.confirmed = max(self.confirmed, delivery_tag)

    def publish(self, body: str, routing_key: str) -> None:
        self.channel.basic_publish(
            amqp.Message(body, **self._properties), exchange=EXCHANGE,
            routing_key=routing_key)
        self.sent += 1
        while self.sent - self.confirmed > self.window:
            self._wait()

    def _wait(self, timeout: float = 30) -> None:
        try:
            self.connection.drain_events(timeout=timeout)
        except TimeoutError:
            raise PublishRefused('no publisher confirm from RabbitMQ for '
                                 '%d s' % timeout) from None

    def flush(self) -> None:
        while self.confirmed < self.sent:
            self._wait()
        if self.refused:
            raise PublishRefused('RabbitMQ refused %d of %d publishes'
                                 % (self.refused, self.sent))

    def close(self) -> None:
        self.connection.release()


class Admin:
    """Queue declarations, depths and purges on one connection."""

    def __init__(self, amqp_url: str) -> None:
        self.connection = connect(amqp_url)
        self.channel = self.connection.channel()

    def declare(self, name: str, routing_key: str) -> None:
        """A plain non-durable queue of ours, bound on the control exchange.

        The exchange is not declared here: the worker declares it, with its
        own arguments, before we bind.
        """
        self.channel.queue_declare(name, durable=False, auto_delete=False)
        self.channel.queue_bind(name, EXCHANGE, routing_key)

    def stats(self, name: str) -> tuple[int, int] | None:
        """(ready messages, consumers) of a queue; None if there is none."""
        try:
            ok = self.channel.queue_declare(name, passive=True)
        except amqp.exceptions.NotFound:
            # NOTE: a failed passive declare closes the channel.
            self.channel = self.connection.channel()
            return None
        return ok.message_count, ok.consumer_count

    def purge(self, name: str) -> int:
        """Drop what the queue holds; return how many messages that was."""
        return self.channel.queue_purge(name) or 0

    def get_one(self, name: str) -> amqp.Message | None:
        """Take one message off the queue (acknowledged), to look at it."""
        return self.channel.basic_get(name, no_ack=True)

    def delete(self, name: str) -> None:
        self.channel.queue_delete(name)

    def close(self) -> None:
        self.connection.release()
