"""The phases of a benchmark run, each on its own vhost and database."""

import argparse
import datetime
import os
import shutil
import subprocess
import tempfile
import traceback

import amqp
import psycopg2

from benchmarks import feed
from benchmarks import latency
from benchmarks import machine
from benchmarks import profiling
from benchmarks import raw_drain
from benchmarks import rss
from benchmarks import services
from benchmarks import throughput
from benchmarks import workerconf
from benchmarks.progress import BenchFailure
from benchmarks.progress import Progress
from benchmarks.progress import say
from benchmarks.progress import warn
from benchmarks.stage import Stage

# NOTE: ack_each is the reference the worker is compared with; the others
# bracket it: acking every 100 at once, and decoding each envelope.
RAW_DRAINS = {
    'ack_each': ('bench-raw-ack-each', {}, 'ack each'),
    'multi_ack': ('bench-raw-multi-ack', {'multi_ack': 100},
                  'ack multiple every 100'),
    'ack_each_decoded': ('bench-raw-decoded', {'decode': True},
                         'ack each, JSON decoded'),
}


class Run:
    """Owns every stage it opened, and closes those still open at the end."""

    def __init__(self, args: argparse.Namespace,
                 variants: list[workerconf.Variant]) -> None:
        self.args = args
        self.variants = variants
        self.id = services.run_id()
        self.dir = tempfile.mkdtemp(prefix='sw-bench-%s-' % self.id)
        self.stages: list[Stage] = []
        self.result = {
            'run_id': self.id, 'casts': args.casts,
            'started_utc': datetime.datetime.now(datetime.timezone.utc)
            .strftime('%Y-%m-%dT%H:%M:%SZ'),
            'args': vars(args), 'machine': machine.describe(),
            'failures': []}

    def open(self, tag: str, variant: workerconf.Variant) -> Stage:
        say('[%s] creating vhost, database (db sync), config' % tag)
        stage = Stage(self.id, tag, variant, self.dir)
        self.stages.append(stage)
        return stage

    def release(self, stage: Stage) -> None:
        self.stages.remove(stage)
        stage.close()

    def close(self) -> None:
        """Stop workers, drop databases, delete vhosts: even on Ctrl-C."""
        while self.stages:
            stage = self.stages.pop()
            try:
                stage.close()
            except Exception as exc:
                warn('cleaning up %s failed: %r (vhost %s, database %s)' % (
                    stage.tag, exc, stage.vhost and stage.vhost.name,
                    stage.database and stage.database.name))
        if self.args.keep_logs or self.result['failures']:
            say('worker configs and logs kept in %s' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def phase(self, name: str, function, *args) -> object:
        """Run one phase; a failure is recorded and the run goes on.

        A phase whose RabbitMQ or PostgreSQL connection broke (another
        session's fault test restarting a service) is run again, up to
        ``--retries`` times: its figures would be void.
        """
        for attempt in range(self.args.retries + 1):
            try:
                return function(*args)
            except BenchFailure as exc:
                warn('%s failed: %s' % (name, exc))
                self.result['failures'].append('%s: %s' % (name, exc))
                return None
            except Exception as exc:
                # NOTE: a bug of the harness still lets the other phases
                # run and every cleanup happen.
                broken = isinstance(exc, (
                    OSError, psycopg2.Error, amqp.exceptions.AMQPError,
                    subprocess.CalledProcessError))
                hint = (' (a connection to RabbitMQ or PostgreSQL broke: '
                        'was a service restarted, e.g. by a fault test?)'
                        if broken else '')
                warn('%s failed%s:\n%s' % (name, hint,
                                           traceback.format_exc()))
                text = '%s: %r%s' % (name, exc, hint)
                if getattr(exc, 'stderr', None):
                    text += ': %s' % exc.stderr
                if broken and attempt < self.args.retries:
                    say('%s: waiting for RabbitMQ and PostgreSQL, then '
                        'running the phase again' % name)
                    services.wait_until_up()
                    self.result.setdefault('retried', []).append(text)
                    continue
                self.result['failures'].append(text)
                return None
        return None

    # Phases

    def worker_throughput(self, index: int, variant: workerconf.Variant,
                          with_raw: bool, with_worker: bool = True) -> None:
        """Preload; raw kombu drains its copies; the worker drains its own."""
        args = self.args
        entry = {'variant': variant.label, 'workers': variant.workers,
                 'settings': variant.settings}
        if with_worker:
            # NOTE: a phase run again replaces its entry.
            entries = self.result.setdefault('worker', [])
            del entries[index:]
            entries.append(entry)
        stage = None
        try:
            stage = self.open('tp%d' % index, variant)
            stage.declare_queues()
            if with_raw:
                for queue in self._raw_queues():
                    stage.admin.declare(queue, stage.topic)
            preloaded = feed.preload(stage.vhost.amqp_url, stage.topic,
                                     args.casts, Progress(
                                         'preload %s' % stage.tag,
                                         args.casts, stall=args.stall))
            self.result.setdefault('preload', preloaded)
            if with_raw:
                self._raw(stage)
            if not with_worker:
                return
            say('[%s] worker %s, %d process(es), drains %d casts' % (
                stage.tag, variant.label, variant.workers, args.casts))
            entry['result'] = throughput.measure(stage, args.casts,
                                                 args.stall)
            raw = self.result.get('raw_kombu', {}).get('ack_each')
            if raw:
                entry['ratio_to_raw'] = (entry['result']['casts_per_s']
                                         / raw['casts_per_s'])
        except BaseException as exc:
            entry['error'] = str(exc) or type(exc).__name__
            raise
        finally:
            if stage is not None:
                self.release(stage)

    def _raw_queues(self) -> list[str]:
        return ['%s-%d' % (queue, repeat)
                for repeat in range(self.args.raw_repeats)
                for queue, _, _ in RAW_DRAINS.values()]

    def _raw(self, stage: Stage) -> None:
        """Each raw drain ``raw_repeats`` times, interleaved; the median."""
        runs: dict[str, list[dict]] = {key: [] for key in RAW_DRAINS}
        for repeat in range(self.args.raw_repeats):
            for key, (queue, options, text) in RAW_DRAINS.items():
                say('[raw] kombu drains %d casts, prefetch 100, %s (%d/%d)'
                    % (self.args.casts, text, repeat + 1,
                       self.args.raw_repeats))
                name = '%s-%d' % (queue, repeat)
                runs[key].append(raw_drain.drain(
                    stage.vhost.amqp_url, name, self.args.casts,
                    Progress('raw %s' % key, self.args.casts,
                             stall=self.args.stall), **options))
                stage.admin.delete(name)
        raw = self.result.setdefault('raw_kombu', {})
        for key, measured in runs.items():
            ordered = sorted(measured, key=lambda r: r['casts_per_s'])
            raw[key] = dict(ordered[len(ordered) // 2], runs_casts_per_s=[
                r['casts_per_s'] for r in measured])

    def max_rate(self) -> float:
        if self.args.max_rate:
            return self.args.max_rate
        first = (self.result.get('worker') or [{}])[0].get('result')
        if not first:
            raise BenchFailure('no worker throughput measured to take the '
                               'loads from: give --max-rate')
        return first['casts_per_s']

    def latency(self) -> None:
        rate = self.max_rate()
        stage = self.open('lat', self.variants[0])
        try:
            say('[lat] offered loads %s of %.1f casts/s, %.0f s each' % (
                ', '.join('%.0f%%' % (load * 100) for load in
                          self.args.loads), rate, self.args.load_seconds))
            self.result['latency'] = latency.measure(
                stage, rate, self.args.loads, self.args.load_seconds,
                self.args.stall, warmup=self.args.warmup)
        finally:
            self.release(stage)

    def rss(self) -> None:
        stage = self.open('rss', self.variants[0])
        try:
            say('[rss] %d casts in chunks of %d, RSS sampled every second'
                % (self.args.rss_casts, self.args.rss_chunk))
            self.result['rss'] = rss.measure(
                stage, self.args.rss_casts, self.args.rss_chunk,
                self.args.stall)
        finally:
            self.release(stage)

    def profile(self) -> None:
        casts = self.args.profile_casts
        stage = self.open('prof', self.variants[0])
        recorders = []

        def attach(worker) -> None:
            # NOTE: the consuming processes only, once they consume: no
            # imports, no master process waiting on its children.
            for pid in worker.workers():
                for mode in ('gil', 'active'):
                    recorders.append(profiling.Recorder(
                        pid, os.path.join(self.args.results_dir,
                                          '%s-profile-%s-%d.txt' % (
                                              self.args.stamp, mode, pid)),
                        gil=mode == 'gil'))

        try:
            stage.declare_queues()
            feed.preload(stage.vhost.amqp_url, stage.topic, casts,
                         Progress('preload prof', casts,
                                  stall=self.args.stall))
            say('[prof] py-spy records the worker draining %d casts'
                % casts)
            measured = throughput.measure(stage, casts, self.args.stall,
                                          attach=attach)
        finally:
            for recorder in recorders:
                recorder.stop()
            self.release(stage)
        outputs = {mode: [r.output for r in recorders if r.gil == (
            mode == 'gil')] for mode in ('gil', 'active')}
        self.result['profile'] = {
            'casts': casts, 'casts_per_s_while_profiled':
            measured['casts_per_s'], 'raw_files': outputs,
            'summary': profiling.summarize(outputs['gil']),
            'summary_active_threads': profiling.summarize(outputs['active'])}
