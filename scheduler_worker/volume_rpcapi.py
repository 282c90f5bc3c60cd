"""The casts a scheduler sends onward, exactly as Cinder's scheduler does.

Builders only: each returns a Cast (target and arguments, objects already
primitives), which the caller stages in its outbox in the transaction of
the outcome (notifications.Outbox.stage_cast), so a cast is sent once its
outcome is committed, also across crashes. Addressing follows Cinder's
volume/rpcapi.py:VolumeAPI._get_cctxt at a volume service cap >= 3.6:
topic ``cinder-volume.<host@backend>``, server ``<host>``, pool stripped,
cluster first (doc/cinder-scheduler-reference.md §2.1). The only cast not
staged is the start-up fanout (publish_service_capabilities), which, as
Cinder's, is worth nothing once the moment has passed.
"""

import dataclasses
import datetime
import logging
from typing import Any

import oslo_messaging

from scheduler_worker import rpc
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import hosts

LOG = logging.getLogger(__name__)

VOLUME_TOPIC = 'cinder-volume'
BACKUP_TOPIC = 'cinder-backup'
# NOTE: the versions Cinder's scheduler sends (§2.1): every method we
# cast goes out at the volume API's 3.0; the backup API's create_backup
# at 2.0; its publish_service_capabilities fanout at 2.2.
VOLUME_VERSION = '3.0'
BACKUP_VERSION = '2.0'
BACKUP_FANOUT_VERSION = '2.2'


@dataclasses.dataclass(frozen=True)
class Cast:
    """One RPC cast: where to, which method, which (serialized) args."""

    topic: str
    server: str | None
    method: str
    args: dict[str, Any]
    version: str

    def stage(self, outbox, context) -> list[dict[str, Any]]:
        """Its outbox row, carrying the caller's context whole."""
        return outbox.stage_cast(context, self.topic, self.server,
                                 self.method, self.args, self.version)


def volume_target(backend: str) -> tuple[str, str]:
    """(topic, server) of the volume service of ``backend``.

    ``backend`` is a volume's ``cluster_name or host``, at any level
    (``host@backend#pool`` included).
    """
    service = hosts.extract_host(backend, 'backend')
    return '%s.%s' % (VOLUME_TOPIC, service), hosts.extract_host(
        service, 'host')


def ovo_datetime(value: datetime.datetime) -> str:
    """How an OVO DateTimeField travels: seconds, 'Z', no microseconds."""
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


def _wire(value: Any) -> Any:
    return value.to_wire() if isinstance(value, primitives.Primitive) \
        else value


def retry_after(filter_properties: dict[str, Any] | None, backend: str,
                max_attempts: int) -> dict[str, Any] | None:
    """The onward ``retry``: this attempt's number and the backends tried.

    Cinder's _populate_retry then _add_retry_backend; the traceback a
    volume service puts in ``exc`` is dropped. None when max_attempts is
    1: without ``retry`` the volume service never reschedules.
    """
    if max_attempts <= 1:
        return None
    retry = dict((filter_properties or {}).get('retry') or {})
    retry.pop('exc', None)
    num = retry.get('num_attempts')
    retry['num_attempts'] = num + 1 if isinstance(num, int) else 1
    retry['backends'] = list(retry.get('backends') or []) + [backend]
    retry['hosts'] = list(retry.get('hosts') or []) + [backend]
    return retry


def onward_filter_properties(received: dict[str, Any] | None,
                             request_spec: dict[str, Any],
                             volume_type: Any,
                             retry: dict[str, Any] | None
                             ) -> dict[str, Any]:
    """filter_properties as Cinder's scheduler casts them onward.

    The received ones (scheduler hints, ...), plus what its
    populate_filter_properties adds. ``request_spec`` is the plain request
    spec, ``volume_type`` its VolumeType as received. The volume service
    reads only ``retry`` and sends the rest back when it reschedules.
    """
    properties = request_spec.get('volume_properties') or {}
    onward = dict(received or {})
    onward.pop('retry', None)
    onward.update({
        'request_spec': dict(request_spec,
                             resource_properties=properties),
        'config_options': {},
        'volume_type': _wire(volume_type) or {},
        'resource_type': _wire(volume_type) or {},
        'size': properties.get('size'),
        'availability_zone': properties.get('availability_zone'),
        'user_id': properties.get('user_id'),
        'metadata': properties.get('metadata'),
        'qos_specs': properties.get('qos_specs'),
    })
    if retry is not None:
        onward['retry'] = retry
    return onward


def placed_volume(volume: primitives.Primitive, host: str,
                  cluster_name: str | None,
                  scheduled_at: datetime.datetime,
                  availability_zone: str | None) -> primitives.Primitive:
    """The Volume as Cinder's volume_update_db leaves it."""
    return volume.updated(host=host, cluster_name=cluster_name,
                          scheduled_at=ovo_datetime(scheduled_at),
                          availability_zone=availability_zone)


def create_volume(volume: primitives.Primitive, request_spec: Any,
                  filter_properties: dict[str, Any]) -> Cast:
    """The hand-off of a placed volume to its volume service (3.0).

    ``volume`` is the placed Volume (placed_volume), ``request_spec`` as
    received, in which Cinder's own scheduler has the same Volume placed
    (its request_spec['volume'] is the object it saves and casts).
    """
    topic, server = volume_target(volume.data.get('cluster_name') or
                                  volume.data['host'])
    if isinstance(request_spec, primitives.Primitive) and isinstance(
            request_spec.data, dict) and primitives.is_primitive(
                request_spec.data.get('volume')):
        request_spec = dataclasses.replace(
            request_spec, data=dict(request_spec.data,
                                    volume=volume.to_wire()))
    return Cast(topic, server, 'create_volume', {
        'volume': volume.to_wire(),
        'request_spec': _wire(request_spec),
        'filter_properties': filter_properties,
        'allow_reschedule': True}, VOLUME_VERSION)


def extend_volume(volume: primitives.Primitive, new_size: int,
                  reservations: list[str]) -> Cast:
    """extend_volume to the volume's service (3.0), the volume as received."""
    topic, server = volume_target(volume.data.get('cluster_name') or
                                  volume.data['host'])
    return Cast(topic, server, 'extend_volume', {
        'volume': volume.to_wire(), 'new_size': new_size,
        'reservations': reservations}, VOLUME_VERSION)


def create_snapshot(backend: str, snapshot: primitives.Primitive) -> Cast:
    """create_snapshot to the volume's service (3.0): the snapshot only."""
    topic, server = volume_target(backend)
    return Cast(topic, server, 'create_snapshot',
                {'snapshot': snapshot.to_wire()}, VOLUME_VERSION)


def create_backup(backup: primitives.Primitive, host: str) -> Cast:
    """create_backup to the chosen backup service (2.0), host set."""
    return Cast(BACKUP_TOPIC, host, 'create_backup',
                {'backup': backup.updated(host=host).to_wire()},
                BACKUP_VERSION)


def publish_service_capabilities(transport: oslo_messaging.Transport,
                                 context) -> None:
    """Ask every volume and backup service to report now (Cinder's
    request_service_capabilities): fanouts at 3.0 and 2.2.

    Failures are logged: the services report on their own within their
    polling interval anyway.
    """
    for topic, version in ((VOLUME_TOPIC, VOLUME_VERSION),
                           (BACKUP_TOPIC, BACKUP_FANOUT_VERSION)):
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic, fanout=True,
                                             version=version),
            serializer=rpc.rpc_serializer())
        try:
            client.cast(context, 'publish_service_capabilities')
        except oslo_messaging.MessagingException:
            LOG.exception('Could not ask the %s services for their '
                          'capabilities', topic)
