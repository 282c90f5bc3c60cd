"""Groups: whether a named backend can hold a group's volumes.

cinder-api asks before it creates a group from a source group or group
snapshot (``POST /groups/action {create-from-src}``): validate_host_capacity
names the source's backend and sends a request spec whose size is the sum
of the sources' sizes. As Cinder's SchedulerManager.validate_host_capacity
(FilterScheduler.backend_passes_filters), the answer is whether that
backend (``host@backend``: any of its pools; ``host@backend#pool``: that
pool) passes the filters for it. Nothing is claimed or written: the
volumes are created later, each by its own cast, and claim then.
"""

import logging
from typing import Any

from scheduler_worker import exception
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import request as request_mod

LOG = logging.getLogger(__name__)


def capacity_request(context, backend: Any, request_spec: Any,
                     filter_properties: Any) -> request_mod.VolumeRequest:
    """The VolumeRequest a validate_host_capacity call stands for.

    :raises Invalid: an argument of the wrong type or shape; nothing is
        coerced (a size of "10" or true is refused).
    """
    if not isinstance(backend, str) or not backend:
        raise exception.Invalid(reason='backend must be a host string '
                                       '(host@backend[#pool]), not %r'
                                % (backend,))
    if filter_properties is not None and not isinstance(filter_properties,
                                                        dict):
        raise exception.Invalid(reason='filter_properties must be an object '
                                       'or null, not %s'
                                % type(filter_properties).__name__)
    spec = primitives.request_spec_fields(request_spec)
    properties = spec.get('volume_properties')
    if not isinstance(properties, dict):
        raise exception.Invalid(reason='request_spec.volume_properties must '
                                       'be an object')
    size = properties.get('size')
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise exception.Invalid(reason='request_spec.volume_properties.size '
                                       'must be an integer of GiB >= 0, not '
                                       '%r' % (size,))
    zone = properties.get('availability_zone')
    volume_type = spec.get('volume_type')
    return request_mod.VolumeRequest(
        context=context, size=size,
        availability_zones=[zone] if isinstance(zone, str) and zone else [],
        volume_type=volume_type if isinstance(volume_type, dict) else {},
        host=backend, request_spec=spec)


def validate_host_capacity(scheduler: driver.FilterScheduler, context,
                           backend: Any, request_spec: Any,
                           filter_properties: Any) -> bool:
    """Whether ``backend`` passes the filters for the requested size.

    :returns: True, or False when no pool of it passes, or it is unknown
        or down (logged as a warning with the filters' reason; Cinder
        logs the same first words at ERROR: a refusal is an answer here,
        not a fault of the worker).
    :raises Invalid: the request is malformed (see capacity_request).
    """
    request = capacity_request(context, backend, request_spec,
                               filter_properties)
    try:
        scheduler.candidates(context, request)
    except exception.NoValidBackend as exc:
        LOG.warning('Desired host %s does not have enough capacity: %s',
                    backend, exc)
        return False
    return True
