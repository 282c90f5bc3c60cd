"""Transports, serializers and the notifier: how we speak oslo.messaging."""

from typing import Any

from oslo_config import cfg
import oslo_messaging

from scheduler_worker import context as sw_context
from scheduler_worker import exception
from scheduler_worker.objects import base as objects_base


class RequestContextSerializer(oslo_messaging.Serializer):
    """Carries our RequestContext across, around an entity serializer."""

    def __init__(self, base: oslo_messaging.Serializer | None = None) -> None:
        self._base = base or oslo_messaging.NoOpSerializer()

    def serialize_entity(self, context, entity: Any) -> Any:
        return self._base.serialize_entity(context, entity)

    def deserialize_entity(self, context, entity: Any) -> Any:
        return self._base.deserialize_entity(context, entity)

    def serialize_context(self, context) -> dict[str, Any]:
        return context.to_dict()

    def deserialize_context(self, context: dict[str, Any]):
        """The sender's RequestContext; InvalidContext for a wrong type."""
        try:
            return sw_context.RequestContext.from_dict(context)
        except ValueError as exc:
            raise exception.InvalidContext(reason=str(exc)) from None


def rpc_serializer() -> RequestContextSerializer:
    return RequestContextSerializer(objects_base.ObjectSerializer())


def get_rpc_transport(conf: cfg.ConfigOpts) -> oslo_messaging.Transport:
    return oslo_messaging.get_rpc_transport(conf)


def get_notification_transport(
        conf: cfg.ConfigOpts) -> oslo_messaging.Transport:
    return oslo_messaging.get_notification_transport(conf)


def get_client(transport: oslo_messaging.Transport, topic: str,
               version_cap: str | None = None) -> oslo_messaging.RPCClient:
    target = oslo_messaging.Target(topic=topic)
    return oslo_messaging.get_rpc_client(transport, target,
                                         version_cap=version_cap,
                                         serializer=rpc_serializer())
