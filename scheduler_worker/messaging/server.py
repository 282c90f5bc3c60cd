"""The RPC server: a cast is acknowledged once its outcome is committed.

Each message is handled (the create_volume casts of one fetch together,
by the batch handler; anything else through oslo.messaging's dispatcher),
then settled as messaging.outcome.decide says: acknowledged, requeued
after a pause, or rejected. A rejected message is logged once and
reported by an ERROR notification; it goes to the queue's dead-letter
exchange when a broker policy gives it one ([scheduler]
dead_letter_policy), and is logged whole, secrets masked, when none does.
Casts not yet started when the server stops go back to the queue, for
another worker.

An RPC *call* (a message with a reply queue, such as oslo.messaging's
``oslo_rpc_server_ping``) also gets its reply, result or failure, as from
oslo.messaging's own server; a cast gets none.
"""

import contextlib
import logging
import threading
from typing import Any

import cachetools
import oslo_messaging
from oslo_messaging.rpc import dispatcher as rpc_dispatcher
from oslo_messaging.rpc import server as rpc_server

from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker import metrics
from scheduler_worker import rpc
from scheduler_worker.messaging import batches
from scheduler_worker.messaging import envelope
from scheduler_worker.messaging import listener
from scheduler_worker.messaging import outcome

LOG = logging.getLogger(__name__)

Action = outcome.Action


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
                 concurrency: int = 1,
                 dead_letter_policy: bool = False) -> None:
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
        self._dead_letter_policy = dead_letter_policy
        self._stopping = threading.Event()
        self._attempts = cachetools.LRUCache(maxsize=10000)
        self._attempts_lock = threading.Lock()
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
        for message in incoming:
            message.ctxt['message_id'] = envelope.message_id(message)
        groups, singles = batches.group(incoming, self._batch_handlers,
                                        self._fits)
        # NOTE: the others first: a batch of create_volume casts may wait
        # for the volume services' first reports (Cinder mode, at start),
        # which may be among them, as may calls whose callers time out.
        for message in singles:
            self._process([message])
        for handler, messages in groups:
            self._process(messages, handler)

    def _process(self, messages, batch_handler=None) -> None:
        if self._stopping.is_set():
            for message in messages:
                message.requeue()
            return
        with contextlib.ExitStack() as stack:
            handlings = [stack.enter_context(metrics.handling(
                method_label(m.message.get('method'), self._methods),
                envelope.redelivered(m))) for m in messages]
            try:
                ends = (self._handle_batch(batch_handler, messages)
                        if batch_handler else
                        [self._handle(message) for message in messages])
            except Exception as exc:
                # NOTE: handling ends every error it knows in a result;
                # this is the net under it.
                LOG.exception('Unhandled error handling %d message(s)',
                              len(messages))
                ends = [(None, exc)] * len(messages)
            outcomes = [self._decide(message, error)
                        for message, (_, error) in zip(messages, ends,
                                                       strict=True)]
            for handling, decided in zip(handlings, outcomes, strict=True):
                handling.outcome = decided.label
        self._pause(messages, ends, outcomes)
        for message, (result, error), decided in zip(messages, ends,
                                                     outcomes, strict=True):
            self._settle(message, result, error, decided)

    def _handle_batch(self, handler, messages) -> list[tuple]:
        """Hand the casts of one fetch to ``handler`` in one call.

        A batch that fails for no known reason is handled again one by
        one, so that only the cast at fault counts an attempt.
        """
        casts = [self._decode(message) for message in messages]
        try:
            return [(None, error) for error in handler(casts)]
        except Exception as exc:
            if len(messages) == 1 or outcome.is_temporary(exc):
                return [(None, exc)] * len(messages)
            LOG.exception('A batch of %d casts failed; handling them one '
                          'by one', len(messages))
            return [self._handle_batch(handler, [message])[0]
                    for message in messages]

    def _decode(self, message) -> batches.Cast:
        """The cast, and what is wrong with its context, if anything."""
        serializer = self.dispatcher.serializer
        try:
            context = serializer.deserialize_context(message.ctxt)
            refusal = None
        except exception.InvalidContext as exc:
            context = sw_context.RequestContext.anonymous(message.ctxt)
            refusal = exc
        args = message.message.get('args', {})
        return batches.Cast(context, {
            key: serializer.deserialize_entity(context, value)
            for key, value in args.items()}, refusal)

    def _handle(self, message) -> tuple[Any, BaseException | None]:
        """Dispatch one message: (result, None) or (None, its error)."""
        try:
            envelope.screen(message, self._max_message_bytes)
            return self.dispatcher.dispatch(message), None
        except Exception as exc:
            return None, exc

    def _fits(self, message) -> bool:
        try:
            envelope.screen(message, self._max_message_bytes)
        except exception.InvalidMessage:
            return False
        return True

    def _decide(self, message, error) -> outcome.Outcome:
        key = message.ctxt['message_id']
        with self._attempts_lock:
            attempts = self._attempts.get(key, outcome.Attempts())
            decided = outcome.decide(error, attempts)
            if decided.action is Action.REQUEUE:
                self._attempts[key] = attempts.after(decided)
            else:
                self._attempts.pop(key, None)
        return decided

    def _pause(self, messages, ends, outcomes) -> None:
        """Wait, before requeueing, the longest delay the outcomes ask."""
        requeued = [(m, error, o) for m, (_, error), o in zip(
            messages, ends, outcomes, strict=True)
            if o.action is Action.REQUEUE]
        if not requeued:
            return
        delay = max(o.delay for _, _, o in requeued)
        for message, error, decided in requeued:
            if decided.kind is outcome.Kind.UNEXPECTED:
                _context_of(message.ctxt)
                LOG.warning('Requeueing %s (message %s) after an error of '
                            'no known kind', envelope.short(
                                message.message.get('method')),
                            message.ctxt['message_id'], exc_info=error)
        temporary = [error for _, error, o in requeued
                     if o.kind is outcome.Kind.TEMPORARY]
        if temporary:
            LOG.warning('Requeueing %d message(s) in %.0f s after a '
                        'temporary failure: %s: %s', len(temporary), delay,
                        type(temporary[0]).__name__, temporary[0])
        # NOTE: ends early when the server stops: the casts go back now.
        self._stopping.wait(delay)

    def _settle(self, message, result, error, decided) -> None:
        if decided.action is Action.REQUEUE:
            message.requeue()
            return
        if decided.action is Action.REJECT:
            self._poison(message, error)
            _reply(message, failure=_exc_info(error))
            getattr(message, 'reject', message.acknowledge)()
            return
        _reply(message, result,
               failure=_exc_info(error) if error is not None else None)
        message.acknowledge()

    def _poison(self, message, error: BaseException) -> None:
        context = _context_of(message.ctxt)
        method = message.message.get('method')
        fate = ('to the dead-letter exchange' if self._dead_letter_policy
                else 'dropped (no dead-letter exchange), as received: %s'
                % envelope.whole(message, self._max_message_bytes))
        LOG.error('Rejecting message %s (method %r): %s: %s; %s',
                  message.ctxt['message_id'], envelope.short(method),
                  type(error).__name__, error, fate)
        try:
            self._report_poison(context, method, error)
        except Exception:
            LOG.exception('Could not report poison message %s',
                          message.ctxt['message_id'])


def _exc_info(error: BaseException) -> tuple:
    if isinstance(error, rpc_dispatcher.ExpectedException):
        return error.exc_info
    return type(error), error, error.__traceback__


def _reply(message, result: Any = None, failure=None) -> None:
    """Answer an RPC call; for a cast, the driver sends nothing."""
    try:
        message.reply(result, failure=failure)
    except Exception:
        LOG.exception('Could not send the reply to %s',
                      envelope.short(message.message.get('method')))


def _context_of(ctxt: dict[str, Any]) -> sw_context.RequestContext:
    """The sender's context, or as much of it as can be trusted.

    Like every new RequestContext, it becomes the thread's current one,
    which log lines carry.
    """
    try:
        return sw_context.RequestContext.from_dict(ctxt)
    except ValueError:
        return sw_context.RequestContext.anonymous(ctxt)


def get_rpc_server(transport: oslo_messaging.Transport, topic: str,
                   host: str, endpoints: list, report_poison,
                   max_message_bytes: int, batch_size: int = 1,
                   batch_timeout: float | None = None,
                   batch_handlers: list | None = None,
                   concurrency: int = 1,
                   dead_letter_policy: bool = False) -> RPCServer:
    """An RPC server on ``topic``, ``topic.host`` and the topic's fanout.

    oslo.messaging picks its threading executor: nothing is monkey-patched.
    """
    target = oslo_messaging.Target(topic=topic, server=host)
    dispatcher = rpc_dispatcher.RPCDispatcher(
        endpoints, rpc.rpc_serializer(),
        oslo_messaging.DefaultRPCAccessPolicy)
    return RPCServer(transport, target, dispatcher, report_poison,
                     max_message_bytes, batch_size, batch_timeout,
                     batch_handlers, concurrency, dead_letter_policy)
