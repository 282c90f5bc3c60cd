"""Publish-to-commit latency at fixed offered loads, paced publisher.

Two clocks, both on this machine:
- commit-visible (the figure we report): the publish time, taken just
  before the cast is published, to the moment PostgreSQL delivers the
  NOTIFY of an AFTER INSERT trigger on ``volumes``, which it does only
  when the worker's transaction commits.
- insert-stamp (a cross-check): the same publish time, carried in the
  volume's metadata as ``bench_t``, to ``volumes.created_at``, which the
  worker stamps when it builds the INSERT, before the commit. It misses
  the commit itself and any wait for the rest of a batch.
"""

import calendar
import time

from benchmarks import broker
from benchmarks import casts
from benchmarks import stats
from benchmarks.progress import BenchFailure
from benchmarks.progress import Progress
from benchmarks.progress import ServiceLost
from benchmarks.services import CommitListener
from benchmarks.stage import Stage


def _paced_publish(publisher: broker.Publisher, topic: str, rate: float,
                   seconds: float, progress: Progress) -> dict[str, float]:
    """Publish at ``rate``/s for ``seconds``; volume id -> publish time."""
    mix = casts.CastMix(timestamped=True)
    total = max(int(rate * seconds), 1)
    sent = {}
    start = time.time() + 0.05
    for index in range(total):
        delay = start + index / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        published_at = time.time()
        volume_id, body = mix.next(published_at)
        publisher.publish(body, topic)
        sent[volume_id] = published_at
        if index % 50 == 0:
            progress.update(index)
    publisher.flush()
    return sent


def _insert_stamp_latencies(stage: Stage, volume_ids: list[str]) -> list:
    rows = stage.database.rows(
        "SELECT v.created_at, m.value FROM volumes v JOIN volume_metadata m"
        " ON m.volume_id = v.id AND m.key = 'bench_t'"
        " WHERE v.id = ANY(%s)", (volume_ids,))
    return [calendar.timegm(created.utctimetuple())
            + created.microsecond / 1e6 - float(value)
            for created, value in rows]


def measure_point(stage: Stage, listener: CommitListener,
                  publisher: broker.Publisher, rate: float, seconds: float,
                  stall: float, label: str) -> dict:
    """One offered load: publish steadily, then wait for every commit."""
    progress = Progress('latency %s (%.0f/s)' % (label, rate),
                        max(int(rate * seconds), 1), stall=stall,
                        check=stage.check_worker)
    sent = _paced_publish(publisher, stage.topic, rate, seconds, progress)
    first, last = min(sent.values()), max(sent.values())
    waiting = Progress('latency %s: commits' % label, len(sent),
                       stall=stall, check=stage.check_worker)
    while True:
        if listener.error is not None:
            raise ServiceLost('the commit listener lost PostgreSQL: %s'
                              % listener.error)
        seen = sum(1 for volume_id in sent if volume_id in listener.seen)
        if seen >= len(sent):
            break
        try:
            waiting.update(seen)
        except BenchFailure as exc:
            raise BenchFailure('%s: %d of %d casts never committed' % (
                exc, len(sent) - seen, len(sent))) from None
        time.sleep(0.2)
    commit = [listener.seen[v] - t for v, t in sent.items()]
    return {'label': label, 'offered_per_s': rate,
            'achieved_per_s': (len(sent) - 1) / (last - first)
            if last > first else float(len(sent)),
            'casts': len(sent),
            'commit_visible': stats.latency_summary(commit),
            'insert_stamp': stats.latency_summary(
                _insert_stamp_latencies(stage, list(sent)))}


def measure(stage: Stage, max_rate: float, loads: list[float],
            seconds: float, stall: float, warmup: int = 200) -> dict:
    """Every load point on one running consumer, after a short warm-up.

    The consumer is the worker, or the lean reference (the stage says),
    which does not declare its queue: the stage must have declared it.
    """
    stage.database.add_commit_trigger()
    listener = CommitListener(stage.database)
    listener.start()
    stage.start_consumer()
    publisher = broker.Publisher(stage.vhost.amqp_url, window=50)
    try:
        stage.wait_consuming(stage.variant.workers)
        if warmup:
            measure_point(stage, listener, publisher,
                          max(max_rate * loads[0], 1.0),
                          warmup / max(max_rate * loads[0], 1.0), stall,
                          'warm-up')
        points = [measure_point(stage, listener, publisher,
                                max(max_rate * load, 1.0), seconds, stall,
                                '%d%%' % round(load * 100))
                  for load in loads]
    finally:
        publisher.close()
        listener.stop()
    result = {'max_rate_per_s': max_rate, 'seconds_per_point': seconds,
              'points': points}
    result.update(stage.stop_worker())
    return result
