"""The floor of oslo.messaging: its own RPC server, an endpoint doing nothing.

    python -m benchmarks.oslo_drain --transport-url URL --queue NAME
        --casts N

What a worker pays to receive a cast through oslo.messaging, which the
worker must use (the brief), before it does any work: the stock RPC
server (threading executor, the rabbit driver on kombu, its default
prefetch) dispatching each cast of the preloaded queue NAME to a
``create_volume`` that only counts. It acknowledges each cast before the
endpoint runs, as oslo.messaging's RPC listener does, so it costs less
than at-least-once delivery. Prints one JSON line: the drain's casts/s
and the CPU (user + sys) of this process per cast.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import warnings

from benchmarks.progress import BenchFailure
from benchmarks.progress import Progress
from benchmarks.stage import Stage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# NOTE: longest the drain may go without a cast dispatched.
STALL_SECONDS = 60.0


def drain(stage: Stage, queue: str, total: int, stall: float) -> dict:
    """Run the drain in a process of its own on the preloaded ``queue``."""
    with subprocess.Popen(
            [sys.executable, '-W', 'ignore', '-m', 'benchmarks.oslo_drain',
             '--transport-url', stage.vhost.transport_url, '--queue', queue,
             '--casts', str(total), '--stall', str(stall)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True) as process:
        out, err = process.communicate()
    if process.returncode:
        raise BenchFailure('the oslo.messaging drain failed (exit %d): %s'
                           % (process.returncode, err[-2000:]))
    return json.loads(out.strip().splitlines()[-1])


def _run(transport_url: str, queue: str, total: int, stall: float) -> dict:
    warnings.simplefilter('ignore')
    from oslo_config import cfg
    import oslo_messaging

    done = threading.Event()
    dispatched = [0]

    class Endpoint:
        target = oslo_messaging.Target(version='3.0')

        def create_volume(self, context, **kwargs):
            dispatched[0] += 1
            if dispatched[0] >= total:
                done.set()

    # NOTE: the global CONF: oslo.messaging registers its tracing options
    # there only, and its RPC server reads them for every message.
    cfg.CONF([], project='bench-oslo-drain')
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=transport_url)
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=queue, server='bench'),
        [Endpoint()])
    progress = Progress('oslo.messaging no-op', total, stall=stall)
    started, cpu_started = time.monotonic(), time.process_time()
    server.start()
    while not done.wait(1):
        progress.update(dispatched[0])
    seconds = time.monotonic() - started
    cpu_seconds = time.process_time() - cpu_started
    server.stop()
    server.wait()
    transport.cleanup()
    return {'casts': total, 'seconds': seconds,
            'casts_per_s': total / seconds, 'cpu_seconds': cpu_seconds,
            'cpu_ms_per_cast': 1000.0 * cpu_seconds / total,
            'ack': 'each, before dispatch (oslo.messaging RPC)'}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.oslo_drain',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--transport-url', required=True)
    parser.add_argument('--queue', required=True)
    parser.add_argument('--casts', type=int, required=True)
    parser.add_argument('--stall', type=float, default=STALL_SECONDS)
    args = parser.parse_args(argv)
    print(json.dumps(_run(args.transport_url, args.queue, args.casts,
                          args.stall)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
