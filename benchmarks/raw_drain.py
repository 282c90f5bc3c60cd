"""The broker's bound: plain kombu with manual acks, on the same bodies.

The drain receives and acknowledges, and does not decode the JSON: the
broker-and-client ceiling that any worker built on kombu works under.
"""

import json
import time

import kombu

from benchmarks import broker
from benchmarks.progress import Progress
from benchmarks.progress import say
from benchmarks.stage import Stage

# NOTE: ack_each, and around it acking every 100 at once, and decoding
# each envelope (the least any consumer does).
DRAINS = {
    'ack_each': ('bench-raw-ack-each', {}, 'ack each'),
    'multi_ack': ('bench-raw-multi-ack', {'multi_ack': 100},
                  'ack multiple every 100'),
    'ack_each_decoded': ('bench-raw-decoded', {'decode': True},
                         'ack each, JSON decoded'),
}


def queues(repeats: int) -> list[str]:
    """Our queues, one per drain and repeat, to bind beside the worker's."""
    return ['%s-%d' % (queue, repeat) for repeat in range(repeats)
            for queue, _, _ in DRAINS.values()]


def drain_each(stage: Stage, total: int, repeats: int,
               stall: float) -> dict[str, dict]:
    """Each drain ``repeats`` times, interleaved; the median run of each."""
    runs: dict[str, list[dict]] = {key: [] for key in DRAINS}
    for repeat in range(repeats):
        for key, (queue, options, text) in DRAINS.items():
            say('[raw] kombu drains %d casts, prefetch 100, %s (%d/%d)'
                % (total, text, repeat + 1, repeats))
            name = '%s-%d' % (queue, repeat)
            runs[key].append(drain(
                stage.vhost.amqp_url, name, total,
                Progress('raw %s' % key, total, stall=stall), **options))
            stage.admin.delete(name)
    medians = {}
    for key, measured in runs.items():
        ordered = sorted(measured, key=lambda r: r['casts_per_s'])
        medians[key] = dict(ordered[len(ordered) // 2], runs_casts_per_s=[
            r['casts_per_s'] for r in measured])
    return medians


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
