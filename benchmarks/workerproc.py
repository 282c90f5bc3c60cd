"""The real scheduler-worker console script as a measured child process."""

import os
import signal
import subprocess
import sys
import time

from benchmarks.progress import BenchFailure

BIN_DIR = os.path.dirname(sys.executable)


def console_script(name: str) -> str:
    path = os.path.join(BIN_DIR, name)
    return path if os.path.exists(path) else name


def db_sync(config_file: str) -> None:
    done = subprocess.run([console_script('scheduler-worker-manage'),
                           '--config-file', config_file, 'db', 'sync'],
                          capture_output=True, text=True, timeout=180)
    if done.returncode:
        raise BenchFailure('scheduler-worker-manage db sync failed (exit '
                           '%d):\n%s' % (done.returncode,
                                         (done.stdout + done.stderr)[-2000:]))


def register_pool(config_file: str) -> None:
    """A pool with room for every cast: the worker schedules each volume.

    Without one, every volume would end in error (NoValidBackend) and the
    benchmark would measure the refusal path.
    """
    done = subprocess.run([console_script('scheduler-worker-manage'),
                           '--config-file', config_file, 'backend',
                           'register', 'bench@lvm#pool', '--total-gb',
                           '1000000000', '--availability-zone', 'nova'],
                          capture_output=True, text=True, timeout=180)
    if done.returncode:
        raise BenchFailure('scheduler-worker-manage backend register failed '
                           '(exit %d):\n%s' % (done.returncode, (
                               done.stdout + done.stderr)[-2000:]))


def _parent_of(pid: int) -> int | None:
    try:
        with open('/proc/%d/stat' % pid) as stat:
            # NOTE: the command name may hold spaces and parentheses; the
            # fields after its closing parenthesis are fixed.
            return int(stat.read().rpartition(')')[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, children first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            parent = _parent_of(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process used so far; 0 once it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            fields = stat.read().rpartition(')')[2].split()
    except OSError:
        return 0.0
    # NOTE: utime and stime are fields 14 and 15 of proc(5), counted from
    # 1; fields[0] here is field 3 (state).
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    with open('/proc/stat') as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def rss_kb(pid: int) -> int:
    """VmRSS of a process in KiB; 0 once it is gone."""
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class WorkerProcess:
    """``scheduler-worker --config-file F`` in its own session.

    Its own session keeps a Ctrl-C in the terminal away from it: the
    harness decides when and how the worker stops.
    """

    def __init__(self, config_file: str, log_file: str,
                 source: str | None = None) -> None:
        self.config_file = config_file
        self.source = source
        self.log_file = log_file
        self.output_file = log_file + '.out'
        self.process: subprocess.Popen | None = None
        self.exit_code: int | None = None
        self.stop_seconds: float | None = None

    def start(self) -> None:
        env = None
        if self.source:
            # NOTE: ahead of the venv's (editable) install of this tree:
            # the worker imports the other build's scheduler_worker.
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                filter(None, (self.source, os.environ.get('PYTHONPATH')))))
        with open(self.output_file, 'ab') as output:
            self.process = subprocess.Popen(
                [console_script('scheduler-worker'), '--config-file',
                 self.config_file], stdin=subprocess.DEVNULL,
                stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True, env=env)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def workers(self) -> list[int]:
        """The processes that consume: the master's children, or itself."""
        return descendants(self.pid) or [self.pid]

    def rss(self) -> dict:
        """RSS in KiB: the master, and the sum over the worker children."""
        children = descendants(self.pid)
        per_worker = [rss_kb(pid) for pid in children]
        return {'master_kb': rss_kb(self.pid),
                'workers_kb': sum(per_worker), 'per_worker_kb': per_worker}

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: the master, and the sum over its children."""
        return {'master_s': cpu_seconds(self.pid),
                'workers_s': sum(cpu_seconds(pid)
                                 for pid in descendants(self.pid))}

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, wait ``timeout`` s, then SIGKILL the whole session."""
        if self.process is None or self.exit_code is not None:
            return self.exit_code
        started = time.monotonic()
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout)
        except BaseException:
            # NOTE: too slow, or we are interrupted ourselves: the master
            # is alive, so its process group is still ours to kill.
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            if not isinstance(sys.exc_info()[1], subprocess.TimeoutExpired):
                raise
        finally:
            self._kill_leftovers()
        self.stop_seconds = time.monotonic() - started
        self.exit_code = self.process.returncode
        return self.exit_code

    def _kill_leftovers(self) -> None:
        # NOTE: children the master left behind keep its process group,
        # whose id cannot be reused while any of them lives.
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                if os.getpgid(int(entry)) == self.process.pid:
                    os.kill(int(entry), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue

    def log_tail(self, lines: int = 15) -> str:
        text = []
        for path in (self.log_file, self.output_file):
            try:
                with open(path, errors='replace') as log:
                    tail = log.readlines()[-lines:]
            except OSError:
                continue
            text.append('--- %s (last %d lines)\n%s' % (
                path, len(tail), ''.join(tail)))
        return '\n'.join(text)
