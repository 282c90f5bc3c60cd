"""A received message before it is dispatched: its id, shape and log form."""

import hashlib
import re
from typing import Any

from oslo_serialization import jsonutils
from oslo_utils import strutils

from scheduler_worker import exception

MAX_DEPTH = 32
# NOTE: what oslo.messaging's version check can compare (X.Y, or X.Y.Z);
# anything else would fail inside the dispatcher as an unexplained error.
_VERSION = re.compile(r'\d+(\.\d+){0,2}')
# NOTE: context keys that carry credentials beyond what oslo.utils masks
# by name (tokens, passwords).
_CREDENTIALS = ('service_catalog',)


def message_id(incoming) -> str:
    """A stable id for an incoming message, the same on every redelivery.

    The AMQP drivers carry oslo.messaging's per-send ``_unique_id``; other
    drivers get a digest of the message and its context.
    """
    unique_id = getattr(incoming, 'unique_id', None)
    if unique_id:
        return str(unique_id)
    # NOTE: without the id the server itself adds to the context: a
    # requeued message comes back with it, and must keep its id.
    ctxt = {key: value for key, value in incoming.ctxt.items()
            if key != 'message_id'}
    body = jsonutils.dump_as_bytes([ctxt, incoming.message],
                                   sort_keys=True)
    return hashlib.sha256(body).hexdigest()


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of decoded JSON, counted no further than ``limit``."""
    depth, level = 0, [value]
    while level and depth <= limit:
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict)
                               else item)]
        depth += 1
    return depth


def body_size(incoming) -> int:
    raw = getattr(incoming.message, '_raw_message', None)
    return len(raw.body) if raw is not None else 0


def redelivered(incoming) -> bool:
    """The AMQP redelivered flag of the kombu message, where there is one."""
    raw = getattr(incoming.message, '_raw_message', None)
    info = getattr(raw, 'delivery_info', None) or {}
    return bool(info.get('redelivered'))


def short(value: Any, limit: int = 64) -> Any:
    text = repr(value)
    return value if len(text) <= limit else text[:limit] + '...'


def screen(incoming, max_bytes: int) -> None:
    """Raise InvalidMessage unless the message is one we may dispatch."""
    size = body_size(incoming)
    if size > max_bytes:
        raise exception.InvalidMessage(
            reason='%d bytes, more than the %d allowed' % (size, max_bytes))
    body = incoming.message
    if _depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise exception.InvalidMessage(
            reason='nested deeper than %d levels' % MAX_DEPTH)
    problems = []
    method = body.get('method')
    if not isinstance(method, str) or not method:
        problems.append('method must be a name, not %r' % (short(method),))
    version = body.get('version', '1.0')
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        problems.append('version must be X.Y, not %r' % (short(version),))
    if not isinstance(body.get('args', {}), dict):
        problems.append('args must be an object, not %s'
                        % type(body.get('args')).__name__)
    if not isinstance(body.get('namespace', ''), (str, type(None))):
        problems.append('namespace must be a string')
    if problems:
        raise exception.InvalidMessage(reason='; '.join(problems))


def whole(incoming, limit: int) -> str:
    """The message as received (context and body), credentials masked.

    Cut at ``limit`` characters: a message larger than the worker handles
    is not copied whole into its log either.
    """
    context = {key: ('***' if key in _CREDENTIALS else value)
               for key, value in incoming.ctxt.items()}
    text = jsonutils.dumps(strutils.mask_dict_password(
        {'context': context, 'message': incoming.message}), sort_keys=True)
    if len(text) <= limit:
        return text
    return '%s... (%d more characters)' % (text[:limit], len(text) - limit)
