"""The worker's memory (VmRSS), sampled every second over many casts."""

import time

from benchmarks import stats
from benchmarks.feed import ChunkFeeder
from benchmarks.progress import BenchFailure
from benchmarks.progress import Progress
from benchmarks.stage import Stage


def measure(stage: Stage, total: int, chunk: int, stall: float,
            interval: float = 1.0) -> dict:
    """Feed ``total`` casts in chunks to one worker; sample its RSS."""
    worker = stage.start_worker()
    stage.wait_consuming(stage.variant.workers)
    stage.bind_counters()
    committed = [0]
    feeder = ChunkFeeder(stage.vhost.amqp_url, stage.topic, total, chunk,
                         lambda: committed[0])
    progress = Progress('rss %s' % stage.tag, total, stall=stall,
                        check=stage.check_worker)
    samples = []
    started = time.monotonic()
    feeder.start()
    try:
        while True:
            rows = stage.database.volume_count()
            committed[0] = rows
            notes = stage.count_notifications()
            sample = worker.rss()
            sample.update(t=time.monotonic() - started, rows=rows)
            samples.append(sample)
            if feeder.error is not None:
                raise BenchFailure('publishing casts failed: %r'
                                   % feeder.error)
            if rows >= total and notes['info'] + notes['error'] >= total:
                break
            progress.update(rows, 'workers %.0f MiB, master %.0f MiB, '
                            'published %d' % (sample['workers_kb'] / 1024,
                                              sample['master_kb'] / 1024,
                                              feeder.published),
                            marker=(rows, notes['info']))
            time.sleep(max(0.0, started + len(samples) * interval
                           - time.monotonic()))
    finally:
        feeder.stop()
    result = {'casts': total, 'chunk': chunk,
              'seconds': time.monotonic() - started,
              'sample_interval_s': interval,
              'workers_kb': stats.growth([s['workers_kb'] for s in samples]),
              'master_kb': stats.growth([s['master_kb'] for s in samples]),
              'worker_processes': len(samples[-1]['per_worker_kb']),
              'end_notifications': notes['info'],
              'error_notifications': notes['error'],
              'samples': samples}
    result.update(stage.stop_worker())
    return result
