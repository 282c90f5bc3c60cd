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
from benchmarks import oslo_drain
from benchmarks import profiling
from benchmarks import raw_drain
from benchmarks import rss
from benchmarks import services
from benchmarks import throughput
from benchmarks import workerconf
from benchmarks.progress import BenchFailure
from benchmarks.progress import Progress
from benchmarks.progress import say
from benchmarks.progress import ServiceLost
from benchmarks.progress import warn
from benchmarks.stage import Stage

# NOTE: the lean reference with N processes drains its own copy of the
# preload, bound beside the worker's queue.
LEAN_QUEUE = 'bench-lean-%dp'
# NOTE: oslo.messaging's own RPC server drains this copy (the raw phase).
OSLO_QUEUE = 'bench-oslo-noop'


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

    def open(self, tag: str, variant: workerconf.Variant,
             beside: Stage | None = None, queue: str | None = None) -> Stage:
        say('[%s] creating %sdatabase (db sync), config' % (
            tag, '' if beside else 'vhost, '))
        stage = Stage(self.id, tag, variant, self.dir, beside, queue)
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
                    subprocess.CalledProcessError, ServiceLost))
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
                          with_raw: bool, with_worker: bool = True,
                          with_lean: bool = False) -> None:
        """Preload; the references drain their copies; the worker its own."""
        args = self.args
        entry = {'variant': variant.label, 'workers': variant.workers,
                 'settings': variant.settings, 'source': variant.source}
        if with_worker:
            # NOTE: a phase run again replaces its entry.
            entries = self.result.setdefault('worker', [])
            del entries[index:]
            entries.append(entry)
        stage = None
        try:
            stage = self.open('tp%d' % index, variant)
            self._preload(stage, with_raw, with_lean)
            if with_raw:
                self.result['raw_kombu'] = raw_drain.drain_each(
                    stage, args.casts, args.raw_repeats, args.stall)
                say('[raw] oslo.messaging\'s RPC server, an endpoint doing '
                    'nothing, drains %d casts' % args.casts)
                self.result['oslo_noop'] = oslo_drain.drain(
                    stage, OSLO_QUEUE, args.casts, args.stall)
                stage.admin.delete(OSLO_QUEUE)
            if with_lean:
                self._lean(stage)
            if not with_worker:
                return
            say('[%s] worker %s, %d process(es), drains %d casts' % (
                stage.tag, variant.label, variant.workers, args.casts))
            entry['result'] = throughput.measure(stage, args.casts,
                                                 args.stall)
        except BaseException as exc:
            entry['error'] = str(exc) or type(exc).__name__
            raise
        finally:
            if stage is not None:
                self.release(stage)

    def _preload(self, stage: Stage, with_raw: bool,
                 with_lean: bool) -> None:
        """The worker's queue, the references' beside it; one preload."""
        stage.declare_queues()
        copies = (raw_drain.queues(self.args.raw_repeats) + [OSLO_QUEUE]
                  if with_raw else [])
        if with_lean:
            copies += [LEAN_QUEUE % processes for processes in
                       workerconf.process_counts(self.variants)]
        for queue in copies:
            stage.admin.declare(queue, stage.topic)
        self.result.setdefault('preload', feed.preload(
            stage.vhost.amqp_url, stage.topic, self.args.casts, Progress(
                'preload %s' % stage.tag, self.args.casts,
                stall=self.args.stall)))

    def _lean(self, owner: Stage) -> None:
        """The lean reference drains its copies, 1 process, then more."""
        entries = self.result['lean'] = []
        for processes in workerconf.process_counts(self.variants):
            say('[lean] reference, %d process(es), drains %d casts' % (
                processes, self.args.casts))
            stage = self.open('lean-%dp' % processes, workerconf.Variant(
                'lean', processes, lean=True), beside=owner,
                queue=LEAN_QUEUE % processes)
            try:
                entries.append({'processes': processes,
                                'result': throughput.measure(
                                    stage, self.args.casts,
                                    self.args.stall)})
            finally:
                self.release(stage)

    def max_rate(self) -> float:
        if self.args.max_rate:
            return self.args.max_rate
        first = (self.result.get('worker') or [{}])[0].get('result')
        if not first:
            raise BenchFailure('no worker throughput measured to take the '
                               'loads from: give --max-rate')
        return first['casts_per_s']

    def latency(self) -> None:
        """The worker at each load point (fractions of its maximum)."""
        rate = self.max_rate()
        say('[lat] offered loads %s of %.1f casts/s, %.0f s each' % (
            ', '.join('%.0f%%' % (load * 100) for load in self.args.loads),
            rate, self.args.load_seconds))
        self.result['latency'] = self._latency('lat', self.variants[0],
                                               rate)
        self.result['latency']['variant'] = self.variants[0].label
        # NOTE: more variants at the same offered rates: two builds, or
        # two settings, side by side on the same clock.
        others = self.result.setdefault('latency_others', [])
        del others[:]
        for index, variant in enumerate(
                self.variants[1:self.args.latency_variants], 1):
            say('[lat%d] variant %s at the same offered loads'
                % (index, variant.label))
            measured = self._latency('lat%d' % index, variant, rate)
            measured['variant'] = variant.label
            others.append(measured)

    def latency_lean(self) -> None:
        """The lean reference at the worker's load points, same rates."""
        rate = self.max_rate()
        say('[lat-lean] the lean reference at the same offered loads')
        self.result['latency_lean'] = self._latency(
            'lat-lean', workerconf.Variant(
                'lean', self.variants[0].workers, lean=True), rate)

    def _latency(self, tag: str, variant: workerconf.Variant,
                 rate: float) -> dict:
        # NOTE: every variant from the same quiet start, the first one too.
        settled = services.settle()
        say('[%s] settled: CHECKPOINT, then %.0f s until the machine was '
            '%.0f%% busy' % (tag, settled['seconds'],
                             settled['last_busy_pct']))
        stage = self.open(tag, variant)
        try:
            if variant.lean:
                stage.declare_queues()
            measured = latency.measure(
                stage, rate, self.args.loads, self.args.load_seconds,
                self.args.stall, warmup=self.args.warmup)
        finally:
            self.release(stage)
        measured['settled'] = settled
        return measured

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
