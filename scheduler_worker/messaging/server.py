"""The RPC server: oslo.messaging's, told which message each context came in."""

import hashlib
import logging

from oslo_serialization import jsonutils
import oslo_messaging
from oslo_messaging.rpc import server as rpc_server

from scheduler_worker import rpc

LOG = logging.getLogger(__name__)


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


class RPCServer(rpc_server.RPCServer):
    def _process_incoming(self, incoming):
        # NOTE: the dispatcher rebuilds the RequestContext from this dict;
        # our RequestContext keeps message_id without ever sending it on.
        incoming[0].ctxt['message_id'] = message_id(incoming[0])
        super()._process_incoming(incoming)


def get_rpc_server(transport: oslo_messaging.Transport, topic: str,
                   host: str, endpoints: list) -> RPCServer:
    """An RPC server on ``topic`` (and ``topic.host``).

    oslo.messaging picks its threading executor: nothing is monkey-patched.
    """
    target = oslo_messaging.Target(topic=topic, server=host)
    return oslo_messaging.get_rpc_server(
        transport, target, endpoints, serializer=rpc.rpc_serializer(),
        access_policy=oslo_messaging.DefaultRPCAccessPolicy,
        server_cls=RPCServer)
