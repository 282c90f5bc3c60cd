"""Real Cinder (or worker) processes of the lab: start, stop by pid, kill.

oslo.service's launchers call setsid() (cotyledon in the master, the
process launcher in cinder-volume), so a service leaves the test's process
group: it is stopped by its pid and the pids of its descendants, found
in /proc, never by process group.
"""

import os
import signal
import subprocess
import time


def descendants(pid: int) -> list[int]:
    """Pids of every live descendant of ``pid`` (children first)."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # NOTE: the command name (2nd field) may hold spaces and ')'.
        ppid = int(stat.rsplit(')', 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(0), [])
        found.extend(children)
        todo.extend(children)
    return found


def _signal(pids, signum) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _alive(pid: int) -> bool:
    try:
        with open('/proc/%d/stat' % pid) as f:
            # NOTE: a zombie (state Z) has exited; only its parent's wait
            # is missing.
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


class LabProcess:
    """One service: its command, environment and log file."""

    def __init__(self, name: str, argv: list[str], log_path,
                 env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.log_path = str(log_path)
        self.env = env
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> 'LabProcess':
        with open(self.log_path, 'ab') as log:
            log.write(b'==== start %d: %s\n' % (
                self.starts + 1, ' '.join(self.argv).encode()))
            log.flush()
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env)
        self.starts += 1
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError('%s exited with %s:\n%s' % (
                self.name, self.process.returncode, self.tail()))

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the service and its children; SIGKILL what stays."""
        if not self.running():
            return
        family = [self.process.pid, *descendants(self.process.pid)]
        _signal(family, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in family[1:]) or self.running():
            if time.monotonic() > deadline:
                self.kill()
                return
            time.sleep(0.1)
        self.process.wait()

    def kill(self) -> None:
        """SIGKILL the service and every descendant at once (kill -9)."""
        if self.process is None:
            return
        family = [self.process.pid, *descendants(self.process.pid)]
        _signal(family, signal.SIGKILL)
        self.process.wait(30)
        # NOTE: orphans are reparented to init; wait until they are gone
        # so that a restart never meets the previous generation.
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in family[1:]):
            if time.monotonic() > deadline:
                raise AssertionError('%s: children outlived SIGKILL: %s' % (
                    self.name, family[1:]))
            time.sleep(0.05)

    def log(self) -> str:
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def tail(self, lines: int = 40) -> str:
        return '\n'.join(self.log().splitlines()[-lines:])
