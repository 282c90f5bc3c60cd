"""The RPC server: a cast is acknowledged once its outcome is committed.

What happens to a message, decided after its handling:

* handled (volume stored, or refused and recorded in error): acknowledge;
* a temporary failure (the database stays unreachable after oslo.db's
  retries): requeue after a pause, it will be handled again;
* poison (not a cast we can dispatch: unknown or private method,
  unsupported version, oversized or too deeply nested): log once, report
  with an ERROR notification, reject. Rejected messages go to the queue's
  dead-letter exchange when a broker policy gives it one, and are dropped
  otherwise;
* any other error (a context or argument that breaks deserialization, or
  a bug): requeued a few times, in case it passes, then poison: a message
  must never be lost to a passing fault nor redelivered forever;
* not yet started when the server stops: requeue, for another worker.

An RPC *call* (a message with a reply queue, such as oslo.messaging's
``oslo_rpc_server_ping``) also gets its reply, result or failure, as from
oslo.messaging's own server; a cast gets none.
"""

import contextlib
import hashlib
import logging
import sys
import threading
import time
from typing import Any

import cachetools
import oslo_messaging
from oslo_messaging.rpc import dispatcher as rpc_dispatcher
from oslo_messaging.rpc import server as rpc_server
from oslo_serialization import jsonutils

from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker import metrics
from scheduler_worker import rpc
from scheduler_worker.messaging import batches
from scheduler_worker.messaging import listener

LOG = logging.getLogger(__name__)

MAX_DEPTH = 32
TEMPORARY_FAILURE_PAUSE = 1.0
# NOTE: attempts at a message failing for an unknown reason, per process.
# With N workers it may be tried N times as many: still bounded.
UNEXPECTED_FAILURE_ATTEMPTS = 3
POISON = (rpc_dispatcher.NoSuchMethod, rpc_dispatcher.UnsupportedVersion,
          exception.Invalid)


def message_id(incoming) -> str:
    """A stable id for an incoming message, the same on every redelivery.

    The AMQP drivers carry oslo.messaging's per-send ``_unique_id``; other
    drivers get a digest of the message and its context.
    """
    unique_id = getattr(incoming, 'unique_id', None)
    if unique_id:
        return str(unique_id)
    body = jsonutils.dump_as_bytes([incoming.ctxt, incoming.message],
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


def _body_size(incoming) -> int:
    raw = getattr(incoming.message, '_raw_message', None)
    return len(raw.body) if raw is not None else 0


def _redelivered(incoming) -> bool:
    """The AMQP redelivered flag of the kombu message, where there is one."""
    raw = getattr(incoming.message, '_raw_message', None)
    info = getattr(raw, 'delivery_info', None) or {}
    return bool(info.get('redelivered'))


def _methods(endpoints: list) -> frozenset:
    return frozenset(name for endpoint in endpoints for name in dir(endpoint)
                     if not name.startswith('_') and
                     callable(getattr(endpoint, name, None)))


def method_label(method: Any, methods: frozenset) -> str:
    """The metrics label of a message's method: one we have, or 'unknown'.

    A message may claim any method, of any JSON type: labelling with it
    would let poison grow the label set without bound.
    """
    return method if isinstance(method, str) and method in methods \
        else 'unknown'


class RPCServer(rpc_server.RPCServer):
    """oslo.messaging's RPC server, acknowledging after the outcome."""

    def __init__(self, transport, target, dispatcher, report_poison,
                 max_message_bytes: int, batch_size: int = 1,
                 batch_timeout: float | None = None,
                 batch_handlers: list | None = None,
                 concurrency: int = 1) -> None:
        super().__init__(transport, target, dispatcher)
        # NOTE: the listener fetches only when a handler thread is free
        # (see listener.GatedListenerAdapter); we release it per fetch.
        self._free_handlers = threading.BoundedSemaphore(concurrency)
        self._gated = False
        self._report_poison = report_poison
        self._batch_handlers = {h.method: h for h in batch_handlers or ()}
        self._max_message_bytes = max_message_bytes
        self._batch_size = batch_size
        self._batch_timeout = batch_timeout
        self._stopping = threading.Event()
        self._failures = cachetools.LRUCache(maxsize=10000)
        self._failures_lock = threading.Lock()
        self._methods = _methods(dispatcher.endpoints)
        self.progress = listener.ConsumerProgress()

    def _create_listener(self):
        # NOTE: once stopping starts, casts not yet started go back to the
        # queue; those being handled finish (wait() waits for them).
        created = listener.listen(self.transport, self._target,
                                  self._batch_size, self._batch_timeout,
                                  self._stopping, self._free_handlers,
                                  self.progress)
        self._gated = isinstance(created, listener.GatedListenerAdapter)
        return created

    def _process_incoming(self, incoming):
        try:
            self._process_fetch(incoming)
        finally:
            if self._gated:
                self._free_handlers.release()

    def _process_fetch(self, incoming):
        groups, singles = batches.group(incoming, self._batch_handlers,
                                        self._fits)
        for handler, messages in groups:
            self._process(messages, handler)
        for message in singles:
            self._process([message])

    def _process(self, messages, batch_handler=None) -> None:
        if self._stopping.is_set():
            for message in messages:
                message.requeue()
            return
        with contextlib.ExitStack() as stack:
            handlings = [stack.enter_context(metrics.handling(
                method_label(m.message.get('method'), self._methods),
                _redelivered(m))) for m in messages]
            try:
                outcomes = (self._handle_batch(batch_handler, messages)
                            if batch_handler else
                            [self._handle(message) for message in messages])
            except Exception:
                # NOTE: handling settles every error it knows; this is the
                # net under it. A message nobody settles stays unacked,
                # holding a prefetch slot, until the connection closes.
                LOG.exception('Unhandled error; requeueing %d message(s)',
                              len(messages))
                outcomes = ['requeue'] * len(messages)
            for handling, outcome in zip(handlings, outcomes, strict=True):
                handling.outcome = outcome
        for message, outcome in zip(messages, outcomes, strict=True):
            self._settle(message, outcome)

    def _handle_batch(self, handler, messages) -> list[str]:
        """Hand the casts of one fetch to ``handler`` in one call."""
        outcomes: list[str | None] = [None] * len(messages)
        casts = []
        for i, message in enumerate(messages):
            message.ctxt['message_id'] = message_id(message)
            try:
                casts.append((i, self._deserialize(message)))
            except Exception:
                # NOTE: the one-by-one path tells what is wrong with it.
                outcomes[i] = self._handle(message)
        if not casts:
            return outcomes
        try:
            results = handler([cast for _, cast in casts])
        except exception.TemporaryFailure as exc:
            LOG.warning('Requeueing %d casts: %s', len(casts), exc)
            time.sleep(TEMPORARY_FAILURE_PAUSE)
            return [o or 'requeue' for o in outcomes]
        except Exception:
            LOG.exception('A batch of %d casts failed; handling them one '
                          'by one', len(casts))
            for i, _ in casts:
                outcomes[i] = self._handle(messages[i])
            return outcomes
        # NOTE: each cast stored, or refused and recorded: settled.
        for (i, _), result in zip(casts, results, strict=True):
            outcomes[i] = 'ack' if result is None else 'refused'
        return outcomes

    def _deserialize(self, message) -> tuple:
        serializer = self.dispatcher.serializer
        context = serializer.deserialize_context(message.ctxt)
        args = message.message.get('args') or {}
        return context, {key: serializer.deserialize_entity(context, value)
                         for key, value in args.items()}

    def _fits(self, message) -> bool:
        try:
            self._screen(message)
        except exception.InvalidMessage:
            return False
        return True

    @staticmethod
    def _settle(message, outcome: str) -> None:
        if outcome == 'requeue':
            message.requeue()
        elif outcome == 'reject':
            getattr(message, 'reject', message.acknowledge)()
        else:
            message.acknowledge()

    def _handle(self, message) -> str:
        message.ctxt['message_id'] = message_id(message)
        method = message.message.get('method')
        try:
            self._screen(message)
            result = self.dispatcher.dispatch(message)
        except rpc_dispatcher.ExpectedException as exc:
            # NOTE: the endpoint refused the request and already recorded
            # and reported it.
            _reply(message, failure=exc.exc_info)
            return 'refused'
        except exception.TemporaryFailure as exc:
            LOG.warning('Requeueing %s (message %s): %s', method,
                        message.ctxt['message_id'], exc)
            time.sleep(TEMPORARY_FAILURE_PAUSE)
            return 'requeue'
        except POISON as exc:
            self._poison(message, method, exc)
            _reply(message, failure=sys.exc_info())
            return 'reject'
        except Exception as exc:
            outcome = self._unexpected(message, method, exc)
            if outcome == 'reject':
                _reply(message, failure=sys.exc_info())
            return outcome
        _reply(message, result)
        return 'ack'

    def _unexpected(self, message, method, exc: Exception) -> str:
        # NOTE: for its side effect: the warning below carries this
        # message's request id.
        _context_of(message.ctxt)
        with self._failures_lock:
            attempts = self._failures.get(message.ctxt['message_id'], 0) + 1
            self._failures[message.ctxt['message_id']] = attempts
        if attempts >= UNEXPECTED_FAILURE_ATTEMPTS:
            self._poison(message, method, exc)
            return 'reject'
        LOG.warning('Requeueing %s (message %s) after attempt %d failed: '
                    '%s: %s', _short(method), message.ctxt['message_id'],
                    attempts, type(exc).__name__, exc)
        time.sleep(TEMPORARY_FAILURE_PAUSE)
        return 'requeue'

    def _screen(self, message) -> None:
        size = _body_size(message)
        if size > self._max_message_bytes:
            raise exception.InvalidMessage(
                reason='%d bytes, more than the %d allowed' % (
                    size, self._max_message_bytes))
        if _depth(message.message, MAX_DEPTH) > MAX_DEPTH:
            raise exception.InvalidMessage(
                reason='nested deeper than %d levels' % MAX_DEPTH)

    def _poison(self, message, method, exc: Exception) -> None:
        context = _context_of(message.ctxt)
        LOG.error('Rejecting message %s (method %r): %s: %s',
                  message.ctxt['message_id'], _short(method),
                  type(exc).__name__, exc)
        try:
            self._report_poison(context, method, exc)
        except Exception:
            LOG.exception('Could not report poison message %s',
                          message.ctxt['message_id'])


def _reply(message, result: Any = None, failure=None) -> None:
    """Answer an RPC call; for a cast, the driver sends nothing."""
    try:
        message.reply(result, failure=failure)
    except Exception:
        LOG.exception('Could not send the reply to %s',
                      _short(message.message.get('method')))


def _short(value: Any, limit: int = 64) -> Any:
    text = repr(value)
    return value if len(text) <= limit else text[:limit] + '...'


def _context_of(ctxt: dict[str, Any]) -> sw_context.RequestContext:
    """The sender's context, or as much of it as can be trusted.

    Like every new RequestContext, it becomes the thread's current one,
    which log lines carry.
    """
    try:
        return sw_context.RequestContext.from_dict(ctxt)
    except Exception:
        request_id = ctxt.get('request_id')
        return sw_context.RequestContext(
            request_id=request_id if isinstance(request_id, str) and len(
                request_id) <= 255 else None,
            message_id=ctxt.get('message_id'))


def get_rpc_server(transport: oslo_messaging.Transport, topic: str,
                   host: str, endpoints: list, report_poison,
                   max_message_bytes: int, batch_size: int = 1,
                   batch_timeout: float | None = None,
                   batch_handlers: list | None = None,
                   concurrency: int = 1) -> RPCServer:
    """An RPC server on ``topic``, ``topic.host`` and the topic's fanout.

    oslo.messaging picks its threading executor: nothing is monkey-patched.
    """
    target = oslo_messaging.Target(topic=topic, server=host)
    dispatcher = rpc_dispatcher.RPCDispatcher(
        endpoints, rpc.rpc_serializer(),
        oslo_messaging.DefaultRPCAccessPolicy)
    return RPCServer(transport, target, dispatcher, report_poison,
                     max_message_bytes, batch_size, batch_timeout,
                     batch_handlers, concurrency)
