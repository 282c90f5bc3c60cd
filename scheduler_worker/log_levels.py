"""The worker's log levels, read and changed at run time, as Cinder's are.

cinder-api's ``PUT /os-services/get-log`` and ``/set-log`` (microversion
3.32) send the scheduler a LogLevel object: ``prefix`` names the loggers
(every logger whose name starts with it; empty or None: all of them),
``level`` the level to set. Cinder answers from utils.get_log_levels /
set_log_levels; this module does the same on the loggers of this process.

The loggers are every one Python's logging knows (oslo.log's included:
oslo.log builds them on Python's), not only those made through
oslo_log.getLogger as in Cinder: the worker logs through Python's logging,
so Cinder's choice would hide nearly all of its own loggers.
"""

import dataclasses
import logging
from typing import Any

from scheduler_worker import exception
from scheduler_worker.objects import primitives

# NOTE: Cinder's utils.LOG_LEVELS: the levels cinder-api accepts (its
# schema checks them with the same list, case-insensitively).
LEVELS = ('INFO', 'WARNING', 'ERROR', 'DEBUG')

_LOG_LEVEL = frozenset({(primitives.CINDER_NAMESPACE, 'LogLevel')})
_FIELDS = frozenset({'prefix', 'level'})
_VERSION = '1.0'


class InvalidLogRequest(exception.Invalid):
    msg_fmt = 'Cannot handle this log level request: %(reason)s'


@dataclasses.dataclass(frozen=True)
class LogRequest:
    """What a get_log_levels or set_log_levels call asks for.

    ``prefix`` is '' for every logger; ``level`` a name of LEVELS, in
    capitals, or None when none was sent.
    """

    prefix: str
    level: str | None = None

    @classmethod
    def from_wire(cls, value: Any) -> 'LogRequest':
        """The request of a ``log_request`` argument, or InvalidLogRequest.

        Accepted: Cinder's LogLevel 1.x (what cinder-api sends), or a
        plain object with the same fields, for clients without objects.
        Nothing is coerced: a prefix or level that is not a string (or
        None) is refused, and so is a level not in LEVELS.
        """
        fields = _fields(value)
        unknown = set(fields) - _FIELDS
        if unknown:
            raise InvalidLogRequest(reason='unknown field(s) %s' % ', '.join(
                sorted(map(str, unknown))))
        prefix, level = fields.get('prefix'), fields.get('level')
        if prefix is not None and not isinstance(prefix, str):
            raise InvalidLogRequest(reason='prefix must be a string or '
                                           'null, not %s'
                                    % type(prefix).__name__)
        return cls(prefix or '', None if level is None else _level(level))


def _fields(value: Any) -> dict[str, Any]:
    if isinstance(value, primitives.Primitive):
        if not value.is_a(_LOG_LEVEL):
            raise value.refused('log_request must be a plain object or '
                                "Cinder's LogLevel 1.x")
        if str(value.version).split('.')[0] != '1' or \
                not isinstance(value.data, dict):
            raise value.refused("log_request must be Cinder's LogLevel 1.x")
        return value.data
    if not isinstance(value, dict):
        raise InvalidLogRequest(reason='log_request must be an object, not '
                                       '%s' % type(value).__name__)
    return value


def _level(level: Any) -> str:
    """A level's name in capitals; InvalidLogRequest when not one of ours.

    Case does not matter, as in Cinder's utils.get_log_method: cinder-api
    passes on ``debug`` as the user wrote it.
    """
    if not isinstance(level, str) or level.upper() not in LEVELS:
        raise InvalidLogRequest(reason='%r is not a valid log level (one of '
                                       '%s)' % (level, ', '.join(LEVELS)))
    return level.upper()


def _loggers(prefix: str) -> dict[str, logging.Logger]:
    """The named loggers (never the root) whose names start with prefix."""
    known = logging.Logger.manager.loggerDict
    # NOTE: a copy: another thread may make a logger while we iterate.
    return {name: logger for name, logger in list(known.items())
            if isinstance(logger, logging.Logger) and name and
            name.startswith(prefix)}


def get(prefix: str) -> dict[str, str]:
    """{logger name: its effective level's name} under ``prefix``."""
    return {name: logging.getLevelName(logger.getEffectiveLevel())
            for name, logger in sorted(_loggers(prefix).items())}


def set_level(prefix: str, level: str) -> list[str]:
    """Set ``level`` (a name of LEVELS) on the loggers under ``prefix``.

    :returns: the names of the loggers changed, sorted.
    """
    number = logging.getLevelName(_level(level))
    changed = sorted(_loggers(prefix).items())
    for _, logger in changed:
        logger.setLevel(number)
    return [name for name, _ in changed]


def log_level_list(levels: dict[str, str]) -> dict[str, Any]:
    """Cinder's LogLevelList 1.0 primitive of ``levels``: the reply of
    get_log_levels, which cinder-api reads as ``{le.prefix: le.level}``."""
    return _primitive('LogLevelList', {'objects': [
        _primitive('LogLevel', {'prefix': name, 'level': level})
        for name, level in levels.items()]})


def _primitive(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {'versioned_object.name': name,
            'versioned_object.namespace': primitives.CINDER_NAMESPACE,
            'versioned_object.version': _VERSION,
            'versioned_object.data': data,
            'versioned_object.changes': sorted(data)}
