"""Putting casts on the broker: preload a queue, or feed in chunks."""

from collections.abc import Callable
import threading
import time

from benchmarks import broker
from benchmarks import casts
from benchmarks.progress import Progress


def preload(amqp_url: str, routing_key: str, total: int,
            progress: Progress) -> dict:
    """Publish ``total`` casts of the mix, every one confirmed by RabbitMQ."""
    mix = casts.CastMix()
    publisher = broker.Publisher(amqp_url)
    started = time.monotonic()
    try:
        for done in range(total):
            publisher.publish(mix.next()[1], routing_key)
            if done % 500 == 0:
                progress.update(done)
        publisher.flush()
    finally:
        publisher.close()
    seconds = time.monotonic() - started
    progress.update(total)
    return {'casts': total, 'seconds': seconds,
            'casts_per_s': total / seconds, 'body_bytes': mix.sizes()}


class ChunkFeeder(threading.Thread):
    """Publishes ``total`` casts, a chunk whenever the backlog is small.

    The backlog is what was published minus what ``committed()`` says the
    database holds, so it stays bounded even when the worker prefetches
    everything the queue offers.
    """

    def __init__(self, amqp_url: str, routing_key: str, total: int,
                 chunk: int, committed: Callable[[], int]) -> None:
        super().__init__(name='chunk-feeder', daemon=True)
        self.amqp_url = amqp_url
        self.routing_key = routing_key
        self.total = total
        self.chunk = chunk
        self.committed = committed
        self.published = 0
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            self._feed()
        except BaseException as exc:
            self.error = exc

    def _feed(self) -> None:
        mix = casts.CastMix()
        publisher = broker.Publisher(self.amqp_url)
        try:
            while (self.published < self.total
                   and not self._stopping.is_set()):
                if self.published - self.committed() >= self.chunk:
                    self._stopping.wait(0.2)
                    continue
                for _ in range(min(self.chunk,
                                   self.total - self.published)):
                    publisher.publish(mix.next()[1], self.routing_key)
                publisher.flush()
                self.published = publisher.sent
        finally:
            publisher.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(30)
