"""A worker run from a terminal: Ctrl-C stops it as SIGTERM does.

cotyledon's master (oslo.service's threading launcher) calls setsid() when
it starts, which detaches it from the terminal unless it leads a process
group already; under ``make run`` it does not, so the terminal's SIGINT
reached make alone, which then waited for a worker that never heard it.
And a SIGINT that does reach cotyledon makes every process exit at once,
abandoning the casts in flight. So, for a worker in the foreground of a
terminal:

* :func:`hold_terminal` makes it lead a process group of its own, the
  terminal's foreground one, so that setsid() fails (cotyledon expects
  that) and Ctrl-C reaches it; the terminal goes back to the previous
  foreground group (make's) at exit;
* :func:`stop_on_interrupt` has the master take SIGINT for SIGTERM (stop
  consuming, finish the casts in flight, exit 0) and the workers, which
  the terminal signals too, leave it to the master.
"""

import contextlib
import logging
import os
import signal

LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def _no_sigttou():
    # NOTE: tcsetpgrp() from a background group stops the process with
    # SIGTTOU unless the signal is ignored.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTTOU, previous)


@contextlib.contextmanager
def hold_terminal():
    """Lead the terminal's foreground group while the worker runs."""
    try:
        tty = os.open('/dev/tty', os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        yield  # no controlling terminal: systemd, a test, nohup
        return
    try:
        foreground = os.tcgetpgrp(tty)
        if foreground != os.getpgrp() or os.getpgrp() == os.getpid():
            # NOTE: in the background (``make run &``), or leading the
            # foreground group already (started by an interactive shell).
            yield
            return
        os.setpgid(0, 0)
        with _no_sigttou():
            os.tcsetpgrp(tty, os.getpgrp())
        try:
            yield
        finally:
            with _no_sigttou(), contextlib.suppress(OSError):
                os.tcsetpgrp(tty, foreground)
    finally:
        os.close(tty)


def _leave_interrupt_to_the_master(service_id, worker_id, service) -> None:
    # NOTE: the terminal signals the whole foreground group; the master
    # then stops each worker with SIGTERM, which lets its casts finish.
    # (When the graceful shutdown times out, the master's SIGINT to the
    # group no longer ends the workers: their own timeout, started by
    # that SIGTERM, does.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_on_interrupt(launcher) -> None:
    """Have SIGINT (Ctrl-C) stop the service as SIGTERM does."""
    # NOTE: oslo.service keeps its cotyledon ServiceManager private (see
    # systemd.stop_signals_from). The manager reads signal numbers from
    # its wakeup pipe and hands each to _on_signal_received(), where
    # SIGINT means exit at once and SIGTERM the orderly shutdown.
    manager = getattr(launcher, '_manager', None)
    if manager is None:
        LOG.warning('No cotyledon manager: Ctrl-C exits without finishing '
                    'the casts in flight')
        return
    received = manager._on_signal_received

    def on_signal(signo: int) -> None:
        received(signal.SIGTERM if signo == signal.SIGINT else signo)

    manager._on_signal_received = on_signal
    manager.register_hooks(on_new_worker=_leave_interrupt_to_the_master)
