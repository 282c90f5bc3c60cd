"""What becomes of a handled message: one decision, in one function.

``decide`` takes what the handling of a message ended with (None, or the
exception it raised or returned) and what happened to the message before
in this process, and says: acknowledge, requeue after a delay, or reject.

* handled: stored, or refused and recorded (Refused, or an exception the
  endpoint declared with oslo_messaging.expected_exceptions, which it has
  recorded or reported): acknowledge;
* a temporary failure (the database's: deadlock, lock timeout, lost
  connection, no free pooled connection; or TemporaryFailure): requeue
  after a delay that grows with each recurrence, up to MAX_DELAY, and
  never reject, however often it recurs: the cast would be lost;
* poison (not a cast we can handle: InvalidMessage, an unknown method or
  version, Invalid input with no volume to record it under): reject;
* anything else (a bug): requeue UNEXPECTED_ATTEMPTS - 1 times, in case
  it passes, then reject: a message must not be redelivered forever.
"""

import dataclasses
import enum

from oslo_messaging.rpc import dispatcher as rpc_dispatcher

from scheduler_worker import exception
from scheduler_worker.db import api as db

# NOTE: the first pause before a requeue, doubled at each recurrence up to
# MAX_DELAY: short enough that a cast waits at most MAX_DELAY once the
# database is back, long enough that a worker whose database is away does
# not spin through its queue. The pause ends early when the worker stops.
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
_DOUBLINGS = 5
# NOTE: handlings of a message failing for no known reason, per process.
# With N workers it may be tried N times as many: still bounded.
UNEXPECTED_ATTEMPTS = 3

_POISON = (rpc_dispatcher.NoSuchMethod, rpc_dispatcher.UnsupportedVersion,
           exception.Invalid)
_SETTLED = (rpc_dispatcher.ExpectedException, exception.Refused)


class Action(enum.Enum):
    ACK = 'ack'
    REQUEUE = 'requeue'
    REJECT = 'reject'


class Kind(enum.Enum):
    """Why: what kind of end the handling came to."""

    HANDLED = 'handled'
    REFUSED = 'refused'
    TEMPORARY = 'temporary failure'
    POISON = 'poison'
    UNEXPECTED = 'unexpected error'


@dataclasses.dataclass(frozen=True)
class Outcome:
    action: Action
    kind: Kind
    delay: float = 0.0

    @property
    def label(self) -> str:
        """The metrics' name of it: 'ack' only for a handled message."""
        if self.kind is Kind.HANDLED:
            return Action.ACK.value
        return Kind.REFUSED.value if self.kind is Kind.REFUSED \
            else self.action.value


@dataclasses.dataclass(frozen=True)
class Attempts:
    """Earlier handlings of one message in this process that failed."""

    temporary: int = 0
    unexpected: int = 0

    def after(self, outcome: Outcome) -> 'Attempts':
        """These attempts, and the one that ended in ``outcome``."""
        return Attempts(
            self.temporary + (outcome.kind is Kind.TEMPORARY),
            self.unexpected + (outcome.kind is Kind.UNEXPECTED))


def is_temporary(error: BaseException) -> bool:
    """Whether the failure should pass if the message is handled later."""
    return isinstance(error, exception.TemporaryFailure) or \
        db.is_temporary(error)


def decide(error: BaseException | None,
           attempts: Attempts = Attempts()) -> Outcome:
    """What to do with a message whose handling ended with ``error``."""
    if error is None:
        return Outcome(Action.ACK, Kind.HANDLED)
    if isinstance(error, _SETTLED):
        return Outcome(Action.ACK, Kind.REFUSED)
    if is_temporary(error):
        return Outcome(Action.REQUEUE, Kind.TEMPORARY, min(
            FIRST_DELAY * 2 ** min(attempts.temporary, _DOUBLINGS),
            MAX_DELAY))
    if isinstance(error, _POISON):
        return Outcome(Action.REJECT, Kind.POISON)
    if attempts.unexpected + 1 < UNEXPECTED_ATTEMPTS:
        return Outcome(Action.REQUEUE, Kind.UNEXPECTED, FIRST_DELAY)
    return Outcome(Action.REJECT, Kind.UNEXPECTED)
