"""Progress lines while a phase runs, and the watchdog for stalls."""

from collections.abc import Callable
import sys
import time


class BenchFailure(Exception):
    """A phase cannot finish: the message says what was seen and where."""


class ServiceLost(Exception):
    """RabbitMQ or PostgreSQL went away under a phase: run it again."""


def say(text: str) -> None:
    print('%s %s' % (time.strftime('%H:%M:%S'), text), flush=True)


def warn(text: str) -> None:
    print('%s WARNING: %s' % (time.strftime('%H:%M:%S'), text),
          file=sys.stderr, flush=True)


class Progress:
    """Prints one line every ``interval`` s; fails after ``stall`` s idle.

    ``check`` is called on every update and may raise BenchFailure (for
    instance when the worker process died).
    """

    def __init__(self, phase: str, total: int, stall: float = 60.0,
                 interval: float = 3.0,
                 check: Callable[[], None] | None = None) -> None:
        self.phase = phase
        self.total = total
        self.stall = stall
        self.interval = interval
        self.check = check
        self.started = time.monotonic()
        self._printed = (self.started, 0)
        self._changed = (self.started, None)

    def update(self, done: int, detail: str = '',
               marker: object = None) -> None:
        """Report ``done``; a change of ``marker`` (or done) is progress."""
        now = time.monotonic()
        marker = done if marker is None else marker
        if marker != self._changed[1]:
            self._changed = (now, marker)
        elif now - self._changed[0] > self.stall:
            raise BenchFailure(
                '%s: no progress for %.0f s (%d/%d%s)' % (
                    self.phase, now - self._changed[0], done, self.total,
                    ', ' + detail if detail else ''))
        if self.check is not None:
            self.check()
        last_time, last_done = self._printed
        if now - last_time >= self.interval:
            say('[%s] %d/%d %5.1f%%  %7.1f/s now  %7.1f/s mean  %5.1f s%s'
                % (self.phase, done, self.total,
                   100.0 * done / max(self.total, 1),
                   (done - last_done) / (now - last_time),
                   done / max(now - self.started, 1e-9),
                   now - self.started, '  ' + detail if detail else ''))
            self._printed = (now, done)
