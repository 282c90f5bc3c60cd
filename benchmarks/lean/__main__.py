"""python -m benchmarks.lean: one process of the lean reference pipeline.

    python -m benchmarks.lean --amqp-url URL --queue NAME --dsn DSN
        [--host HOST] [--prefetch 200] [--batch-size 64] [--window-ms 2]
        [--wait-for-go]

Consumes NAME until SIGTERM, storing into the database of DSN (synced by
``scheduler-worker-manage db sync``, with a pool registered). With
``--wait-for-go`` it connects, prints ``ready`` and consumes only once a
line arrives on stdin: several processes then start together.
"""

import argparse
import signal
import sys
import traceback

import amqp
import kombu.exceptions
import psycopg2

from benchmarks.lean import SERVICE_LOST
from benchmarks.lean.pipeline import Pipeline

_SERVICE_ERRORS = (OSError, psycopg2.OperationalError,
                   psycopg2.InterfaceError, amqp.exceptions.ConnectionError,
                   kombu.exceptions.OperationalError)


def _stop(signum, frame):
    # NOTE: unwinds from wherever the loop is: a transaction in flight
    # rolls back, and its casts, never acknowledged, are delivered again.
    raise SystemExit(0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.lean',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--amqp-url', required=True)
    parser.add_argument('--queue', required=True)
    parser.add_argument('--dsn', required=True, help='libpq connection '
                        'string of the database to store into')
    parser.add_argument('--host', default='bench-lean',
                        help='publisher id is scheduler.HOST')
    parser.add_argument('--prefetch', type=int, default=200)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--window-ms', type=float, default=2.0)
    parser.add_argument('--wait-for-go', action='store_true')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _stop)
    try:
        pipeline = Pipeline(args.amqp_url, args.queue, args.dsn, args.host,
                            prefetch=args.prefetch,
                            batch_size=args.batch_size,
                            window=args.window_ms / 1000.0)
    except _SERVICE_ERRORS:
        traceback.print_exc()
        return SERVICE_LOST
    try:
        if args.wait_for_go:
            print('ready', flush=True)
            sys.stdin.readline()
        pipeline.run()
    except _SERVICE_ERRORS:
        traceback.print_exc()
        return SERVICE_LOST
    finally:
        pipeline.close()
        print('lean: %d casts in %d batches, %d refused' % (
            pipeline.casts, pipeline.batches, pipeline.refused),
            file=sys.stderr, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
