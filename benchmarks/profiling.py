"""A py-spy profile of the worker under load, summed up as hot spots."""

import collections
import os
import shutil
import signal
import subprocess
import sys

from benchmarks.progress import BenchFailure


def py_spy() -> str:
    path = os.path.join(os.path.dirname(sys.executable), 'py-spy')
    if os.path.exists(path):
        return path
    found = shutil.which('py-spy')
    if found is None:
        raise BenchFailure('--profile needs py-spy: pip install -r '
                           'benchmarks/requirements.txt')
    return found


class Recorder:
    """``py-spy record`` on one process, until stopped (or it exits)."""

    def __init__(self, pid: int, output: str, rate: int = 50,
                 gil: bool = False) -> None:
        self.output = output
        self.gil = gil
        self.messages = output + '.log'
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        # NOTE: --nonblocking samples without pausing the worker, so the
        # profile costs it little; --nolineno groups samples by function.
        # Idle threads (blocked in the kernel) are not sampled; with
        # --gil, only the thread holding the GIL is: where the CPU goes.
        with open(self.messages, 'w') as messages:
            self.process = subprocess.Popen(
                [py_spy(), 'record', '--pid', str(pid),
                 '--nonblocking', '--nolineno', '--rate', str(rate),
                 '--format', 'raw', '--output', output]
                + (['--gil'] if gil else []),
                stdin=subprocess.DEVNULL, stdout=messages,
                stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not os.path.exists(self.output):
            with open(self.messages, errors='replace') as messages:
                raise BenchFailure('py-spy wrote no profile (exit code %s):'
                                   '\n%s' % (self.process.returncode,
                                             messages.read()[-2000:]))


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rstrip('\n').rpartition(' ')
    return stack.split(';'), int(count)


def _is_frame(frame: str) -> bool:
    # NOTE: py-spy prefixes stacks with "process ..." and "thread ..."
    # pseudo-frames; only real functions count.
    return bool(frame) and not frame.startswith(('process ', 'thread '))


def package(frame: str) -> str:
    """The top-level package of a frame: ``sqlalchemy``, ``logging``, ..."""
    _, _, where = frame.rpartition(' (')
    where = where.rstrip(')')
    if where.startswith('<'):
        return 'python (frozen)'
    return where.split('/')[0].removesuffix('.py')


def summarize(raw_files: list[str], top: int = 20) -> dict:
    """Self and inclusive sample shares of the hottest functions.

    ``packages`` sums the self samples by top-level package: where the
    time goes, library by library.
    """
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for raw_file in raw_files:
        with open(raw_file) as raw:
            for line in raw:
                if not line.strip():
                    continue
                frames, count = _frames(line)
                frames = [f for f in frames if _is_frame(f)]
                if not frames:
                    continue
                total += count
                own[frames[-1]] += count
                for frame in set(frames):
                    inclusive[frame] += count
    if not total:
        return {'samples': 0}

    def share(counter: collections.Counter) -> list:
        return [{'function': frame, 'pct': round(100.0 * n / total, 1)}
                for frame, n in counter.most_common(top)]

    packages: collections.Counter = collections.Counter()
    for frame, count in own.items():
        packages[package(frame)] += count
    return {'samples': total, 'self': share(own),
            'inclusive': share(inclusive),
            'packages': [{'package': name, 'pct': round(100.0 * n / total,
                                                        1)}
                         for name, n in packages.most_common(top)]}
