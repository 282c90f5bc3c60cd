"""scheduler-worker whose relay stops its own process in mid-publish, once.

Run as ``python -m tests.fault.relay_pause SCRIPT ARGS...`` with
SW_TEST_RELAY_PAUSE naming a file. While that file exists, the next relay
pass that claimed rows removes it, writes what it holds (its pid, the row
ids and message ids) to FILE.held, and sends itself SIGSTOP before
publishing: a relay paused in the middle of a publish, its claim held,
until the test sends SIGCONT (or SIGKILL). Without SW_TEST_RELAY_PAUSE
nothing is paused. Either way SIGUSR1 writes every thread's stack to the
log (stderr), for a test that times out to say where the worker waits.
Nothing else is changed.
"""

# NOTE: first, as in the console scripts: the threading backend.
import scheduler_worker.cmd  # noqa: F401,I001

import faulthandler
import json
import os
import runpy
import signal
import sys
import threading

from scheduler_worker import notifications
from scheduler_worker import publisher

_ARMED = os.environ.get('SW_TEST_RELAY_PAUSE')
_relaying = threading.local()


def _message_id(body: str) -> str:
    return json.loads(json.loads(body)['oslo.message'])['message_id']


def _pause_holding(rows) -> None:
    held = {'pid': os.getpid(), 'ids': [row['id'] for row in rows],
            'message_ids': [_message_id(row['body']) for row in rows]}
    with open(_ARMED + '.tmp', 'w') as f:
        json.dump(held, f)
    os.rename(_ARMED + '.tmp', _ARMED + '.held')
    os.kill(os.getpid(), signal.SIGSTOP)


def _relay(original):
    def relay(self, *args, **kwargs):
        _relaying.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _relaying.active = False
    return relay


def _send(original):
    def send(self, rows, retry=0):
        if _ARMED and getattr(_relaying, 'active', False) and rows:
            try:
                os.remove(_ARMED)
            except FileNotFoundError:
                pass
            else:
                _pause_holding(rows)
        return original(self, rows, retry=retry)
    return send


# NOTE: inherited by the worker processes oslo.service forks.
faulthandler.register(signal.SIGUSR1, all_threads=True)
notifications.Outbox.relay = _relay(notifications.Outbox.relay)
publisher.Publisher.send = _send(publisher.Publisher.send)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
