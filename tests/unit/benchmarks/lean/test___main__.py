"""A lean process that loses its services says so by its exit code."""

import os
import subprocess
import sys

from benchmarks.lean import SERVICE_LOST

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))


def test_no_database_to_reach_exits_as_a_lost_service_not_a_failure():
    # NOTE: port 1 on loopback refuses at once: nothing listens there.
    done = subprocess.run(
        [sys.executable, '-m', 'benchmarks.lean', '--amqp-url',
         'amqp://guest:guest@127.0.0.1:1/', '--queue', 'q', '--dsn',
         'host=127.0.0.1 port=1 dbname=none connect_timeout=5'],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == SERVICE_LOST, done.stderr
    assert 'OperationalError' in done.stderr
