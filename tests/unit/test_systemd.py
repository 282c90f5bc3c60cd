"""sd_notify over a real unix datagram socket: what systemd would read."""

import os
import socket
import threading

import pytest

from scheduler_worker import systemd
from tests import fixtures


@pytest.fixture
def notify(tmp_path):
    sock = fixtures.NotifySocket(tmp_path / 'notify')
    yield sock
    sock.close()


def test_from_environment_takes_the_variables_out(monkeypatch):
    monkeypatch.setenv('NOTIFY_SOCKET', '/run/x/notify')
    monkeypatch.setenv('WATCHDOG_USEC', '30000000')
    monkeypatch.setenv('WATCHDOG_PID', str(os.getpid()))
    notifier = systemd.Notifier.from_environment()
    assert (notifier.address, notifier.watchdog_interval) == (
        '/run/x/notify', 15.0)
    for name in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'):
        assert name not in os.environ


def test_watchdog_meant_for_another_process_is_ignored(monkeypatch):
    monkeypatch.setenv('NOTIFY_SOCKET', '/run/x/notify')
    monkeypatch.setenv('WATCHDOG_USEC', '30000000')
    monkeypatch.setenv('WATCHDOG_PID', '1')
    assert systemd.Notifier.from_environment().watchdog_interval is None


def test_without_systemd_nothing_is_sent(monkeypatch):
    monkeypatch.delenv('NOTIFY_SOCKET', raising=False)
    assert systemd.Notifier.from_environment().notify('READY=1') is False


def test_states_arrive_in_one_datagram(notify):
    systemd.Notifier(notify.path).notify('STOPPING=1', 'STATUS=bye')
    assert notify.receive(5) == ['STOPPING=1', 'STATUS=bye']


def test_abstract_socket_names_work():
    name = '@sw-test-%d' % os.getpid()
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind('\0' + name[1:])
    receiver.settimeout(5)
    try:
        assert systemd.Notifier(name).notify('READY=1')
        assert receiver.recv(100) == b'READY=1'
    finally:
        receiver.close()


def test_a_missing_socket_is_reported_not_raised(tmp_path):
    assert systemd.Notifier(str(tmp_path / 'gone')).notify('READY=1') is False


def test_ready_waits_for_the_consumer_then_watchdog_follows_it(notify):
    attached, consuming = threading.Event(), threading.Event()
    reporter = systemd.Reporter(
        systemd.Notifier(notify.path, watchdog_usec=200000),
        attached.is_set, consuming.is_set, 'Consuming topic t')
    reporter.start()
    try:
        assert notify.receive(1) is None, 'READY before the consumer'
        attached.set()
        consuming.set()
        assert notify.wait_for('READY=1', 5) == [
            'READY=1', 'STATUS=Consuming topic t']
        notify.wait_for('WATCHDOG=1', 5)
        consuming.clear()
        # NOTE: a ping may have been on its way; then silence.
        notify.receive(0.2)
        assert notify.receive(1) is None, 'WATCHDOG=1 while not consuming'
        consuming.set()
        notify.wait_for('WATCHDOG=1', 5)
    finally:
        reporter.stop()


class _Launcher:
    """What stop_signals_from needs of oslo.service's launcher."""

    def __init__(self) -> None:
        self.hooks = []
        self._manager = self

    def register_hooks(self, on_terminate=None) -> None:
        self.hooks.append(on_terminate)


def test_master_says_stopping_on_its_terminate_hook(notify):
    launcher = _Launcher()
    systemd.stop_signals_from(launcher, systemd.Notifier(notify.path))
    [hook] = launcher.hooks
    hook()
    assert 'STOPPING=1' in notify.receive(5)
