"""systemd's notify protocol: READY, STOPPING and WATCHDOG that mean it.

The process tree is a master (cotyledon) and worker children. cotyledon's
master says READY=1 as soon as it runs, before any child reached the
database or RabbitMQ, when it finds NOTIFY_SOCKET in the environment. So
cmd/worker.py takes systemd's variables out of the environment before it
launches (what sd_notify(3) calls unset_environment), and the service object
carries them into the children it is forked into:

* a child says READY=1 once its database answered and its consumer is
  attached to the queue (basic.consume done);
* while it consumes, a child says WATCHDOG=1 every WATCHDOG_USEC / 2;
* the master says STOPPING=1 when SIGTERM starts the orderly shutdown.
  Children must not: they also stop, and come back, on every SIGHUP.

systemd accepts messages from the children only with NotifyAccess=all.

NOTE: the datagram is sent here rather than through oslo.service's
``systemd`` helper or cotyledon's: both read the socket from the
environment, which has to stay empty in the master.
"""

from collections.abc import Callable
import contextlib
import logging
import os
import socket
import threading

LOG = logging.getLogger(__name__)

# NOTE: how often a child looks whether its consumer got attached, before
# it says READY=1.
_READY_POLL = 0.1


class Notifier:
    """Where to send sd_notify messages, and the watchdog's period."""

    def __init__(self, address: str | None = None,
                 watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec

    @classmethod
    def from_environment(cls) -> 'Notifier':
        """Take systemd's variables out of this process's environment.

        Call in the master, before the launcher runs.
        """
        address = os.environ.pop('NOTIFY_SOCKET', None) or None
        usec = os.environ.pop('WATCHDOG_USEC', None)
        pid = os.environ.pop('WATCHDOG_PID', None)
        # NOTE: WATCHDOG_PID names the process systemd started (the master
        # here); a variable inherited from some other service is not ours.
        if pid and pid != str(os.getpid()):
            usec = None
        try:
            watchdog_usec = int(usec) if usec else None
        except ValueError:
            LOG.warning('Ignoring WATCHDOG_USEC=%r: not a number', usec)
            watchdog_usec = None
        return cls(address, watchdog_usec if watchdog_usec else None)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between two WATCHDOG=1, or None without a watchdog."""
        if not self.address or not self.watchdog_usec:
            return None
        return self.watchdog_usec / 2 / 1e6

    def notify(self, *states: str) -> bool:
        """Send ``states`` (``'READY=1'``, ...) in one datagram."""
        if not self.address:
            return False
        address = self.address
        if address.startswith('@'):
            # NOTE: systemd names abstract-namespace sockets with a '@'.
            address = '\0' + address[1:]
        sock = socket.socket(socket.AF_UNIX,
                             socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        with contextlib.closing(sock):
            try:
                sock.connect(address)
                sock.sendall('\n'.join(states).encode())
            except OSError as exc:
                LOG.warning('Could not tell systemd %s: %s',
                            ', '.join(states), exc)
                return False
        return True

    def stopping(self) -> None:
        self.notify('STOPPING=1', 'STATUS=Stopping: finishing casts in '
                    'flight')


class Reporter:
    """A child's thread: READY=1 once attached, WATCHDOG=1 while consuming.

    ``attached`` and ``consuming`` are callables: whether the consumer was
    ever attached (basic.consume done), and whether it got through a poll
    recently with every consumer attached.
    """

    def __init__(self, notifier: Notifier, attached: Callable[[], bool],
                 consuming: Callable[[], bool], status: str) -> None:
        self._notifier = notifier
        self._attached = attached
        self._consuming = consuming
        self._status = status
        self._stop = threading.Event()
        self._thread = None

    def start(self) -> None:
        if not self._notifier.address:
            return
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='systemd-notify')
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._attached():
            if self._stop.wait(_READY_POLL):
                return
        self._notifier.notify('READY=1', 'STATUS=%s' % self._status)
        interval = self._notifier.watchdog_interval
        if interval is None:
            return
        stalled = False
        while not self._stop.wait(interval):
            if self._consuming():
                self._notifier.notify('WATCHDOG=1')
                stalled = False
            elif not stalled:
                # NOTE: once per stall: the silence is what tells systemd.
                LOG.warning('Consumer not attached or not polling: no '
                            'WATCHDOG=1 until it consumes again')
                stalled = True


def stop_signals_from(launcher, notifier: Notifier) -> None:
    """Have the master say STOPPING=1 when SIGTERM begins its shutdown."""
    # NOTE: oslo.service's threading launchers keep their cotyledon
    # ServiceManager private; its terminate hooks run in the master, on
    # SIGTERM only (SIGHUP restarts children without stopping the service).
    manager = getattr(launcher, '_manager', None)
    if manager is None or not notifier.address:
        return
    manager.register_hooks(on_terminate=notifier.stopping)
