"""work_cleanup (call) and do_cleanup (cast): Cinder mode, as Cinder's.

``POST /v3/{project}/workers/cleanup`` makes cinder-api call
work_cleanup with a CleanupRequest (reference §1.14, §4.2). As Cinder's
SchedulerManager.work_cleanup: the services its filters select (a down
one only, unless ``is_up`` says otherwise; none at all when it names a
``service_id``, Cinder's own quirk) are each sent a do_cleanup: a
cinder-scheduler's to topic ``cinder-scheduler`` (any scheduler, 3.4),
always "requested"; a volume service's to its own queue (3.7), requested
only when it is up. The reply is ``[requested, not_requested]``, Service
primitives, which cinder-api renders as ``cleaning`` / ``unavailable``.
The casts are staged in the outbox and committed before the reply.

do_cleanup (the casts to cinder-scheduler) cleans the workers rows of
the service it names in ONE transaction (db.workers_cleanup): each row is
claimed for this worker, a Volume still ``creating`` goes to ``error``
and the row is deleted. No message, no notification, no quota change;
capacity is derived, so nothing of the worker's own needs undoing. A
volume whose create_volume hand-off is still in the outbox is not
cleaned: that cast is committed work the relay sends, not work lost.

At start (clean_own), as Cinder's CleanableManager.init_host, the same
cleanup of the rows naming the worker's own services row.
"""

import datetime
from typing import Any

from oslo_log import log as logging
from oslo_utils import timeutils

from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import volume_rpcapi
from scheduler_worker.db import api as db
from scheduler_worker.objects import primitives

LOG = logging.getLogger(__name__)

SCHEDULER_BINARY = 'cinder-scheduler'
SCHEDULER_TOPIC = 'cinder-scheduler'
SCHEDULER_CLEANUP_VERSION = '3.4'
VOLUME_CLEANUP_VERSION = '3.7'
SERVICE_VERSION = '1.6'
_KIND = frozenset({(primitives.CINDER_NAMESPACE, 'CleanupRequest')})
_FIELDS = {'service_id': int, 'cluster_name': str, 'host': str,
           'binary': str, 'is_up': bool, 'disabled': bool,
           'resource_id': str, 'resource_type': str, 'until': str}
_DATETIME = '%Y-%m-%dT%H:%M:%SZ'


def cleanup_request(value: Any) -> primitives.Primitive:
    """Cinder's CleanupRequest 1.x, its fields of their types; Invalid."""
    request = primitives.Primitive.of(value) if primitives.is_primitive(
        value) else value
    if not isinstance(request, primitives.Primitive) or \
            not request.is_a(_KIND) or not isinstance(request.data, dict) or \
            str(request.version).split('.')[0] != '1':
        raise exception.Invalid(reason="cleanup_request must be Cinder's "
                                       "CleanupRequest 1.x object")
    for name, kind in _FIELDS.items():
        found = request.data.get(name)
        if found is None:
            continue
        if not isinstance(found, kind) or (kind is int and isinstance(
                found, bool)):
            raise exception.Invalid(reason='cleanup_request %s must be a %s'
                                    % (name, kind.__name__))
    if request.data.get('until') is not None:
        until(request.data)
    return request


def until(data: dict[str, Any]) -> datetime.datetime | None:
    """The request's ``until`` (an OVO DateTimeField); Invalid."""
    value = data.get('until')
    if value is None:
        return None
    for layout in (_DATETIME, '%Y-%m-%dT%H:%M:%S.%fZ',
                   '%Y-%m-%dT%H:%M:%S+00:00', '%Y-%m-%dT%H:%M:%S.%f+00:00'):
        try:
            return datetime.datetime.strptime(value, layout)
        except ValueError:
            continue
    raise exception.Invalid(reason='cleanup_request until must be a UTC '
                                   'date and time, not %r' % (value,))


def _ovo_time(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime(_DATETIME)


def service_primitive(row: dict[str, Any]) -> dict[str, Any]:
    """A services row as Cinder's Service 1.6 primitive (its fields but
    the lazy ``cluster``)."""
    data = {name: row.get(name) for name in (
        'id', 'host', 'binary', 'cluster_name', 'topic', 'report_count',
        'disabled', 'availability_zone', 'disabled_reason',
        'rpc_current_version', 'object_current_version',
        'replication_status', 'frozen', 'active_backend_id', 'uuid',
        'deleted')}
    for name in ('modified_at', 'created_at', 'updated_at', 'deleted_at'):
        data[name] = _ovo_time(row.get(name))
    return {'versioned_object.name': 'Service',
            'versioned_object.namespace': primitives.CINDER_NAMESPACE,
            'versioned_object.version': SERVICE_VERSION,
            'versioned_object.data': data,
            'versioned_object.changes': []}


def do_cleanup_cast(request: primitives.Primitive,
                    service: dict[str, Any],
                    until_: datetime.datetime) -> volume_rpcapi.Cast:
    """The do_cleanup for one service: the request with its cluster_name,
    service_id, host, binary and until; to any scheduler (3.4) or to the
    volume service's queue, cluster first (3.7)."""
    onward = request.updated(
        cluster_name=service['cluster_name'], service_id=service['id'],
        host=service['host'], binary=service['binary'],
        until=_ovo_time(until_))
    if service['binary'] == SCHEDULER_BINARY:
        return volume_rpcapi.Cast(SCHEDULER_TOPIC, None, 'do_cleanup',
                                  {'cleanup_request': onward.to_wire()},
                                  SCHEDULER_CLEANUP_VERSION)
    topic, server = volume_rpcapi.volume_target(
        service['cluster_name'] or service['host'])
    return volume_rpcapi.Cast(topic, server, 'do_cleanup',
                              {'cleanup_request': onward.to_wire()},
                              VOLUME_CLEANUP_VERSION)


class Cleanup:
    """work_cleanup and do_cleanup behind the manager's endpoints."""

    def __init__(self, outbox: notifications.Outbox, service_id: int,
                 down_time: int) -> None:
        self.outbox = outbox
        self.service_id = service_id
        self.down_time = down_time

    def work_cleanup(self, context, request: Any) -> list[list[dict]]:
        """Send do_cleanup to the services the request selects.

        :returns: [requested, not_requested], Service primitives.
        """
        request = cleanup_request(request)
        data = request.data
        if data.get('service_id') is not None:
            # NOTE: Cinder's ServiceList.get_all filters on service_id,
            # which no services column has: it finds nothing.
            LOG.info('Workers cleanup names service_id %s: as Cinder, no '
                     'service matches', data['service_id'], context=context)
            return [[], []]
        filters = {name: data.get(name) for name in (
            'cluster_name', 'host', 'binary', 'disabled')}
        # NOTE: is_up false (the API's default): down services only.
        filters['is_up'] = data.get('is_up')
        services = db.services_for_cleanup(context, filters, self.down_time)
        until_ = until(data) or timeutils.utcnow().replace(microsecond=0)
        clusters = {}
        for service in services:
            if service['cluster_name']:
                clusters[service['cluster_name']] = clusters.get(
                    service['cluster_name']) or service['is_up']
        requested, not_requested, rows = [], [], []
        for service in services:
            if service['binary'] == SCHEDULER_BINARY:
                up = True
            elif service['cluster_name']:
                up = clusters[service['cluster_name']]
            else:
                up = service['is_up']
            if up:
                rows += do_cleanup_cast(request, service, until_).stage(
                    self.outbox, context)
                requested.append(service_primitive(service))
            else:
                not_requested.append(service_primitive(service))
        if rows:
            db.outbox_add(context, rows)
            self.outbox.publish(rows)
        LOG.info('Workers cleanup: %d services requested, %d unavailable',
                 len(requested), len(not_requested), context=context)
        return [requested, not_requested]

    def do_cleanup(self, context, request: Any) -> None:
        """Clean the workers rows of the service the request names."""
        data = cleanup_request(request).data
        filters = {name: data.get(name) for name in (
            'resource_type', 'resource_id', 'service_id')}
        clean(context, self.service_id, filters,
              until(data) or timeutils.utcnow())


def clean(context, claimer_id: int, filters: dict[str, Any],
          until_: datetime.datetime) -> int:
    """db.workers_cleanup, logged as Cinder logs it; rows cleaned."""
    done = db.workers_cleanup(context, claimer_id, filters, until_)
    for row in done:
        if row['cleaned']:
            LOG.info('Cleaning %s with id %s and status %s',
                     row['resource_type'], row['resource_id'],
                     row['status'], context=context)
    LOG.info('Service %s cleanup completed: %d workers rows',
             filters.get('service_id'), len(done), context=context)
    return len(done)


def clean_own(context, service_id: int) -> int:
    """At start: the workers rows naming our own services row, what a
    previous run of this service left (Cinder's CleanableManager.init_host,
    a do_cleanup of its own service id until now). Rows cleaned."""
    return clean(context, service_id, {'service_id': service_id},
                 timeutils.utcnow())
