"""The lean reference as measured child processes, started together."""

import os
import select
import signal
import subprocess
import sys
import time

from benchmarks import workerproc
from benchmarks.lean import SERVICE_LOST
from benchmarks.progress import BenchFailure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class LeanProcesses:
    """``count`` processes of ``python -m benchmarks.lean`` on one queue.

    Each connects first and says ``ready``; all are then told to go at
    once, so that competing consumers start together. Like the worker,
    they run in sessions of their own: a Ctrl-C reaches the harness only.
    """

    def __init__(self, count: int, amqp_url: str, queue: str, dsn: str,
                 host: str, log_file: str) -> None:
        self.command = [sys.executable, '-m', 'benchmarks.lean',
                        '--amqp-url', amqp_url, '--queue', queue,
                        '--dsn', dsn, '--host', host, '--wait-for-go']
        self.count = count
        self.log_file = log_file
        self.processes: list[subprocess.Popen] = []
        self.stop_seconds: float | None = None

    def start(self, timeout: float = 60) -> None:
        with open(self.log_file, 'ab') as log:
            for _ in range(self.count):
                self.processes.append(subprocess.Popen(
                    self.command, cwd=ROOT, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=log,
                    start_new_session=True))
        deadline = time.monotonic() + timeout
        for process in self.processes:
            self._wait_ready(process, deadline)
        try:
            for process in self.processes:
                process.stdin.write(b'go\n')
                process.stdin.close()
        except BrokenPipeError:
            raise BenchFailure('the lean reference exited when told to go'
                               '\n%s' % self.log_tail()) from None

    def _wait_ready(self, process: subprocess.Popen, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining > 0 and select.select([process.stdout], [], [],
                                           remaining)[0]:
            line = process.stdout.readline()
            if line.strip() == b'ready':
                return
            raise BenchFailure('the lean reference exited before it was '
                               'ready (code %s)\n%s' % (
                                   process.wait(10), self.log_tail()))
        raise BenchFailure('the lean reference was not ready within the '
                           'time allowed\n%s' % self.log_tail())

    @property
    def returncode(self) -> int | None:
        """The first failure's exit code, or 0 once all exited; None: alive."""
        codes = [process.poll() for process in self.processes]
        failed = [code for code in codes if code]
        if failed:
            return failed[0]
        return None if None in codes else 0

    @property
    def service_lost(self) -> bool:
        """Whether a process exited because RabbitMQ or PostgreSQL broke."""
        return self.returncode == SERVICE_LOST

    def alive(self) -> bool:
        return bool(self.processes) and all(
            process.poll() is None for process in self.processes)

    def workers(self) -> list[int]:
        return [process.pid for process in self.processes]

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far, summed over the processes (no master)."""
        return {'master_s': 0.0,
                'workers_s': sum(workerproc.cpu_seconds(process.pid)
                                 for process in self.processes)}

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM each, wait ``timeout`` s, SIGKILL what is left."""
        started = time.monotonic()
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = started + timeout
        for process in self.processes:
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            process.stdout.close()
        self.stop_seconds = time.monotonic() - started
        return self.returncode

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_file, errors='replace') as log:
                tail = log.readlines()[-lines:]
        except OSError:
            return ''
        return '--- %s (last %d lines)\n%s' % (self.log_file, len(tail),
                                               ''.join(tail))
