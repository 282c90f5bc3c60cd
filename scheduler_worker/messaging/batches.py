"""Which casts of one fetch can be handled together, in one call."""

from typing import Any
from typing import NamedTuple


class Cast(NamedTuple):
    """A cast as a batch handler receives it.

    ``refusal`` is what is wrong with its context (InvalidContext), which
    was replaced by an anonymous one: the handler refuses the cast, and
    records it if it can.
    """

    context: Any
    kwargs: dict[str, Any]
    refusal: Exception | None = None


def compatible(available: str, requested: Any) -> bool:
    """Whether an endpoint at ``available`` serves ``requested`` (x.y)."""
    try:
        have = [int(part) for part in available.split('.')[:2]]
        want = [int(part) for part in str(requested).split('.')]
    except ValueError:
        return False
    if len(want) not in (1, 2):
        return False
    want += [0] * (2 - len(want))
    return have[0] == want[0] and want[1] <= have[1]


def expects_reply(message) -> bool:
    """Whether a message is an RPC call, whose caller waits for a reply."""
    # NOTE: every incoming message has a msg_id (oslo.messaging makes one
    # up for casts); only calls carry a reply queue, named reply_q by the
    # AMQP drivers and _reply_q by the fake one.
    return bool(getattr(message, 'reply_q', None) or
                getattr(message, '_reply_q', None))


def group(incoming, handlers: dict[str, Any], fits) -> tuple[list, list]:
    """Split a fetch into (handler, casts) groups and single messages.

    A message joins its method's group when it is a cast, a batch handler
    exists for the method, its version is one the handler's endpoint
    serves, it names no namespace, and ``fits(message)``. Anything else
    goes one by one, through the dispatcher, which replies to calls and
    reports what is wrong with poison.
    """
    groups: dict[str, list] = {}
    singles = []
    for message in incoming:
        body = message.message
        method = body.get('method')
        handler = handlers.get(method) if isinstance(method, str) else None
        if (handler is not None and not expects_reply(message) and
                body.get('namespace') is None and
                isinstance(body.get('args', {}), dict) and
                compatible(handler.target.version,
                           body.get('version', '1.0')) and fits(message)):
            groups.setdefault(method, []).append(message)
        else:
            singles.append(message)
    return [(handlers[m], messages) for m, messages in groups.items()], \
        singles
