"""The reference: plain kombu with manual acks, draining the same bodies.

The reference receives and acknowledges, and does not decode the JSON:
the broker-and-client ceiling that any worker built on kombu works under.
"""

import json
import time

import kombu

from benchmarks import broker
from benchmarks.progress import Progress


def drain(amqp_url: str, queue: str, total: int, progress: Progress,
          prefetch: int = 100, multi_ack: int = 0,
          decode: bool = False) -> dict:
    """Consume ``total`` messages; ack each, or every ``multi_ack`` at once.

    ``decode`` also parses both JSON layers of oslo.messaging's envelope:
    the least any worker must do with a cast.

    The clock starts when the consumer is registered, so the figure is
    casts per second of draining, not of connecting.
    """
    connection = broker.connect(amqp_url)
    count = 0

    def on_message(message: kombu.Message) -> None:
        nonlocal count
        count += 1
        if decode:
            json.loads(json.loads(message.body)['oslo.message'])
        if not multi_ack:
            message.ack()
        elif count % multi_ack == 0 or count == total:
            message.ack(multiple=True)

    try:
        consumer = kombu.Consumer(
            connection, queues=[kombu.Queue(queue, no_declare=True)],
            on_message=on_message, prefetch_count=prefetch, no_ack=False)
        with consumer:
            started = time.monotonic()
            while count < total:
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    pass
                progress.update(count)
            seconds = time.monotonic() - started
    finally:
        connection.release()
    progress.update(total)
    return {'casts': total, 'seconds': seconds,
            'casts_per_s': total / seconds, 'prefetch': prefetch,
            'ack': 'multiple every %d' % multi_ack if multi_ack
            else 'each message', 'decoded': decode}
