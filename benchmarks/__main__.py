"""python -m benchmarks: scheduler-worker against a lean reference.

    python -m benchmarks [--casts N] [--quick] [--output FILE] [--plot FILE]
        [--doc] [--workers K] [--set GROUP.OPTION=VALUE ...]
        [--variant '[LABEL:]OPTION=VALUE;...' ...] [--phases raw,lean,...]
        [--profile] [--check]

See doc/performance.md for what each figure means.
"""

import argparse
import datetime
import json
import os
import signal
import sys

from benchmarks import plot
from benchmarks import report
from benchmarks import stats
from benchmarks import workerconf
from benchmarks.progress import say
from benchmarks.runner import Run

HERE = os.path.dirname(os.path.abspath(__file__))
DOC_PLOT = os.path.join(os.path.dirname(HERE), 'doc', 'performance.png')
PHASES = ('raw', 'lean', 'worker', 'latency', 'rss')

QUICK = {'casts': 2000, 'load_seconds': 4.0, 'rss_casts': 6000,
         'rss_chunk': 1000, 'warmup': 100, 'profile_casts': 2000}
FULL = {'casts': 20000, 'load_seconds': 25.0, 'rss_casts': 100000,
        'rss_chunk': 5000, 'warmup': 200, 'profile_casts': 10000}


def _loads(text: str) -> list[float]:
    loads = [float(part) / 100 for part in text.split(',') if part]
    if not loads or not all(0 < load <= 2 for load in loads):
        raise argparse.ArgumentTypeError('percentages of max, e.g. 25,50,75')
    return loads


def _phases(text: str) -> list[str]:
    if text.strip() == 'none':
        return []
    phases = [part.strip() for part in text.split(',') if part.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise argparse.ArgumentTypeError('unknown phases %s; known: %s' % (
            ', '.join(sorted(unknown)), ', '.join(PHASES)))
    return phases


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks', description=__doc__.splitlines()[0])
    parser.add_argument('--casts', type=int, help='casts preloaded for the '
                        'throughput phases (default 20000; quick 2000)')
    parser.add_argument('--quick', action='store_true', help='a ~2-3 minute '
                        'smoke run: small N, short load points, 6k RSS')
    parser.add_argument('--output', help='JSON result (default '
                        'benchmarks/results/<UTC timestamp>.json)')
    parser.add_argument('--plot', help='write the PNG plot here')
    parser.add_argument('--doc', action='store_true', help='write the plot '
                        'to doc/performance.png (unless --plot says where)')
    parser.add_argument('--workers', type=int, default=1,
                        help='[DEFAULT] workers of every variant (default 1)')
    parser.add_argument('--set', dest='settings', action='append',
                        default=[], metavar='GROUP.OPTION=VALUE',
                        help='an option written into every worker config')
    parser.add_argument('--variant', dest='variants', action='append',
                        default=[], metavar='[LABEL:]OPTION=VALUE;...',
                        help='a worker variant to measure (repeatable); '
                        'the first one also runs the latency, RSS and '
                        'profile phases. workers=K sets the processes. '
                        'Default: the defaults, and two processes.')
    parser.add_argument('--phases', type=_phases, default=list(PHASES),
                        help='comma list of %s (default: all), or none '
                        '(e.g. with --profile)' % ','.join(PHASES))
    parser.add_argument('--loads', type=_loads,
                        default=[0.1, 0.25, 0.5, 0.75],
                        help='latency load points, %% of the worker\'s '
                        'max (10,25,50,75)')
    parser.add_argument('--latency-variants', type=int, default=1,
                        metavar='N', help='run the latency load points '
                        'with the first N variants, not only the first')
    parser.add_argument('--load-seconds', type=float,
                        help='seconds per load point (25; quick 4)')
    parser.add_argument('--max-rate', type=float, help='casts/s the load '
                        'points are taken from, when the worker phase is '
                        'not run')
    parser.add_argument('--rss-casts', type=int,
                        help='casts of the RSS phase (100000; quick 6000)')
    parser.add_argument('--rss-chunk', type=int, help='casts published '
                        'whenever the RSS backlog is below it (5000)')
    parser.add_argument('--profile', action='store_true', help='also '
                        'record the worker with py-spy and list hot spots')
    parser.add_argument('--profile-casts', type=int, help='casts the '
                        'profiled worker drains (10000; quick 2000)')
    parser.add_argument('--warmup', type=int,
                        help='casts sent before the latency load points')
    parser.add_argument('--raw-repeats', type=int, default=3,
                        help='drain the raw kombu references this many '
                        'times each and keep the median (default 3)')
    parser.add_argument('--stall', type=float, default=60.0, help='fail a '
                        'phase after this many seconds without progress')
    parser.add_argument('--retries', type=int, default=1, help='run a '
                        'phase again when a service connection broke (1)')
    parser.add_argument('--keep-logs', action='store_true', help='keep the '
                        'worker configs and logs (kept anyway on failure)')
    parser.add_argument('--from-json', metavar='FILE', help='measure '
                        'nothing: summarise (and --plot) a saved result')
    parser.add_argument('--check', action='store_true', help='exit 1 when '
                        'a target of issue 13 is missed')
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.stamp = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y%m%dT%H%M%SZ')
    args.results_dir = os.path.join(HERE, 'results')
    args.output = args.output or os.path.join(args.results_dir,
                                              args.stamp + '.json')
    if args.doc and not args.plot:
        args.plot = DOC_PLOT
    return args


def variants(args: argparse.Namespace) -> list[workerconf.Variant]:
    base = [workerconf.parse_setting(text) for text in args.settings]
    if not args.variants:
        return workerconf.default_variants(args.workers, base)
    return [workerconf.parse_variant(spec, base, args.workers)
            for spec in args.variants]


def _interrupt(signum, frame):
    # NOTE: SIGTERM unwinds like Ctrl-C, through every cleanup; SIGINT is
    # set explicitly since a shell may start us with it ignored.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _be_patient(signum, frame):
    say('cleaning up: stopping workers, dropping databases and vhosts')


def replay(args: argparse.Namespace) -> int:
    """Summarise a saved result again, with today's arithmetic."""
    with open(args.from_json) as saved:
        result = json.load(saved)
    if result.get('rss', {}).get('samples'):
        samples = result['rss']['samples']
        for key in ('workers_kb', 'master_kb'):
            result['rss'][key] = stats.growth([s[key] for s in samples])
    report.annotate(result)
    print(report.summary(result), flush=True)
    if args.plot:
        plot.draw(result, args.plot)
        say('plot written to %s' % args.plot)
    return 0


def _measure(run: Run, phases: list[str], profile: bool) -> None:
    """The phases asked for, in order; the references in the first stage."""
    with_worker = 'worker' in phases
    references = {'raw', 'lean'} & set(phases)
    if with_worker or references:
        for index, variant in enumerate(
                run.variants if with_worker else run.variants[:1]):
            first = index == 0
            run.phase('worker %s' % variant.label, run.worker_throughput,
                      index, variant, first and 'raw' in references,
                      with_worker, first and 'lean' in references)
    if 'latency' in phases:
        run.phase('latency', run.latency)
        if 'lean' in phases:
            run.phase('latency lean', run.latency_lean)
    if 'rss' in phases:
        run.phase('rss', run.rss)
    if profile:
        run.phase('profile', run.profile)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        return replay(args)
    try:
        measured = variants(args)
    except ValueError as exc:
        raise SystemExit('python -m benchmarks: %s' % exc) from None
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    run = Run(args, measured)
    try:
        _measure(run, args.phases, args.profile)
    except KeyboardInterrupt as exc:
        say('interrupted (%s): stopping workers, dropping databases and '
            'vhosts' % (exc or 'SIGINT'))
        run.result['failures'].append('interrupted')
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _be_patient)
        run.close()
        run.result['machine']['load_average_at_end'] = os.getloadavg()
        run.result['finished_utc'] = datetime.datetime.now(
            datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        report.annotate(run.result)
        report.write_json(run.result, args.output)
    print(report.summary(run.result), flush=True)
    say('result written to %s' % args.output)
    if 'interrupted' in run.result['failures']:
        return 130
    if args.plot:
        plot.draw(run.result, args.plot)
        say('plot written to %s' % args.plot)
    missed = [text for text, ok in report.verdicts(run.result) if not ok]
    if run.result['failures']:
        return 2
    return 1 if args.check and missed else 0


if __name__ == '__main__':
    sys.exit(main())
