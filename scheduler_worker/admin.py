"""The RPC endpoint of calls that touch no volume: log levels, capacity.

Thin, as manager.py: it logs and delegates. Registered beside
SchedulerManager in service.py, so the same RPC server (topic, server
queue, ack after the outcome) answers these methods of Cinder's scheduler
RPC API. Every one is answered in both modes (standalone and Cinder):
none reads or writes a Cinder table.
"""

import logging
from typing import Any

from oslo_config import cfg
import oslo_messaging

from scheduler_worker import log_levels
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import groups

LOG = logging.getLogger(__name__)


class AdminEndpoint:
    """Cinder's scheduler RPC API, the methods that need no volume.

    Version history (Cinder's numbers):

    * 3.7 - get_log_levels(log_request) (call, server-targeted) and
      set_log_levels(log_request) (cast, server-targeted)
    * 3.8 - validate_host_capacity(backend, request_spec,
      filter_properties) (call)

    Malformed arguments raise Invalid: the message is rejected as poison
    (logged with its request id, one ERROR notification
    ``scheduler.<method>``), and a call gets the error as its reply.
    """

    target = oslo_messaging.Target(version='3.12')

    def __init__(self, conf: cfg.ConfigOpts,
                 scheduler: driver.FilterScheduler | None = None) -> None:
        self._scheduler = scheduler or driver.FilterScheduler(conf)

    def get_log_levels(self, context, log_request: Any = None,
                       **kwargs) -> dict[str, Any]:
        """The effective levels of this process's loggers (RPC API 3.7).

        :param log_request: Cinder's LogLevel (or a plain object):
            ``prefix`` selects the loggers whose names start with it
            (empty or null: all); ``level`` is not used (as by Cinder),
            but one that is sent must be a valid level.
        :param kwargs: arguments a newer 3.x client may add; ignored.
        :returns: Cinder's LogLevelList 1.0 primitive, one LogLevel
            {prefix: logger name, level: effective level} per logger.
        :raises InvalidLogRequest: log_request is malformed.
        """
        request = log_levels.LogRequest.from_wire(log_request)
        levels = log_levels.get(request.prefix)
        LOG.debug('get_log_levels %r: %d logger(s)', request.prefix,
                  len(levels))
        return log_levels.log_level_list(levels)

    def set_log_levels(self, context, log_request: Any = None,
                       **kwargs) -> None:
        """Set the level of this process's loggers (RPC API 3.7).

        :param log_request: Cinder's LogLevel (or a plain object):
            ``prefix`` as for get_log_levels, ``level`` one of INFO,
            WARNING, ERROR, DEBUG (any case).
        :param kwargs: arguments a newer 3.x client may add; ignored.
        :raises InvalidLogRequest: log_request is malformed or names no
            valid level: nothing is changed.
        """
        request = log_levels.LogRequest.from_wire(log_request)
        if request.level is None:
            raise log_levels.InvalidLogRequest(reason='level is required')
        changed = log_levels.set_level(request.prefix, request.level)
        # NOTE: at WARNING, so that it shows whatever the levels now are.
        LOG.warning('Log level %s set on %d logger(s) under %r (request '
                    '%s)', request.level, len(changed), request.prefix,
                    context.request_id)

    def validate_host_capacity(self, context, backend: Any = None,
                               request_spec: Any = None,
                               filter_properties: Any = None,
                               **kwargs) -> bool:
        """Whether ``backend`` can hold a group's volumes (RPC API 3.8).

        :param backend: ``host@backend`` or ``host@backend#pool``.
        :param request_spec: Cinder's RequestSpec (or a plain object) with
            ``volume_properties.size``, the GiB needed.
        :param filter_properties: accepted (null or an object), unused.
        :param kwargs: arguments a newer 3.x client may add; ignored.
        :returns: True when a pool of the backend passes the filters.
        :raises Invalid: an argument is malformed.
        """
        return groups.validate_host_capacity(
            self._scheduler, context, backend, request_spec,
            filter_properties)
