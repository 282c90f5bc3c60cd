"""RequestContext: who asked; the DB layer adds their transaction."""

from collections.abc import Callable
import copy
import datetime
from typing import Any

from oslo_context import context
from oslo_utils import timeutils

# NOTE: keys Cinder's RequestContext.to_dict() sends beyond oslo.context's.
# from_dict() passes them to __init__, so they survive a round trip.
_CINDER_KEYS = ('read_deleted', 'remote_address', 'timestamp', 'quota_class',
                'service_catalog', 'message_resource_id',
                'message_resource_type', 'message_action')

# NOTE: the longest request id a refused context's log lines may carry.
_MAX_REQUEST_ID = 255


def _optional_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _list_of(kind: type) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return value is None or (isinstance(value, list) and all(
            isinstance(item, kind) for item in value))
    return check


def _isotime(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        timeutils.parse_isotime(value)
    except ValueError:
        return False
    return True


_READ_DELETED = ('no', 'yes', 'only')

# NOTE: the type each key of to_dict() output (ours, oslo.context's or
# Cinder 29's, see tests/wire/) must have; keys not listed are not read.
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = dict(
    {key: (_optional_string, 'a string') for key in (
        'user', 'user_id', 'project', 'project_id', 'domain', 'domain_id',
        'user_domain', 'user_domain_id', 'project_domain',
        'project_domain_id', 'user_name', 'project_name', 'domain_name',
        'user_domain_name', 'project_domain_name', 'auth_token',
        'request_id', 'global_request_id', 'resource_uuid', 'system_scope',
        'user_identity', 'remote_address', 'quota_class',
        'message_resource_id', 'message_resource_type', 'message_id')},
    **{key: (_boolean, 'true or false') for key in (
        'is_admin', 'read_only', 'show_deleted', 'is_admin_project')},
    roles=(_list_of(str), 'a list of strings'),
    # NOTE: Cinder's message_field.Action, an (id, text) pair, which it
    # puts in the context before casting (e.g. create_backup's).
    message_action=(_list_of(str), 'a list of strings'),
    service_catalog=(_list_of(dict), 'a list of objects'),
    read_deleted=(lambda value: value in _READ_DELETED,
                  ' or '.join(_READ_DELETED)),
    timestamp=(_isotime, 'an ISO 8601 time'))


def problems(values: dict[str, Any]) -> list[str]:
    """Every value of a context dict that has the wrong type, explained."""
    found = []
    for key, value in values.items():
        check, expected = _CHECKS.get(key, (None, None))
        if check is not None and not check(value):
            text = repr(value)
            found.append('%s must be %s, not %s' % (
                key, expected, text if len(text) <= 40 else text[:40] + '...'))
    return found


class RequestContext(context.RequestContext):
    """Security context and request information, as Cinder sends it.

    Positional arguments follow Cinder's RequestContext
    (``RequestContext(user_id, project_id, is_admin=...)``); everything
    oslo.context accepts is accepted as a keyword.
    """

    FROM_DICT_EXTRA_KEYS = list(_CINDER_KEYS) + ['message_id']

    def __init__(self, user_id: str | None = None,
                 project_id: str | None = None,
                 is_admin: bool | None = None,
                 read_deleted: str = 'no',
                 project_name: str | None = None,
                 remote_address: str | None = None,
                 timestamp: datetime.datetime | str | None = None,
                 quota_class: str | None = None,
                 service_catalog: list | None = None,
                 message_resource_id: str | None = None,
                 message_resource_type: str | None = None,
                 message_action: list[str] | None = None,
                 message_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(user_id=user_id, project_id=project_id,
                         is_admin=bool(is_admin),
                         project_name=project_name, **kwargs)
        self.read_deleted = read_deleted or 'no'
        self.remote_address = remote_address
        if timestamp is None:
            timestamp = timeutils.utcnow()
        elif isinstance(timestamp, str):
            timestamp = timeutils.parse_isotime(timestamp)
        self.timestamp = timeutils.normalize_time(timestamp)
        self.quota_class = quota_class
        self.service_catalog = service_catalog or []
        self.message_resource_id = message_resource_id
        self.message_resource_type = message_resource_type
        self.message_action = message_action
        # NOTE: the id of the message this context arrived in, set by our
        # RPC server. Used to derive stable ids; never sent onwards.
        self.message_id = message_id

    def to_dict(self) -> dict[str, Any]:
        values = super().to_dict()
        # NOTE: oslo.context sends user/project/domain ids under its short
        # keys (user, user_domain, ...); Cinder also reads the long ones.
        values.update({
            'user_id': self.user_id,
            'project_id': self.project_id,
            'domain_id': self.domain_id,
            'user_domain_id': self.user_domain_id,
            'project_domain_id': self.project_domain_id,
            'user_name': self.user_name,
            'project_name': self.project_name,
            'domain_name': self.domain_name,
            'user_domain_name': self.user_domain_name,
            'project_domain_name': self.project_domain_name,
            'read_deleted': self.read_deleted,
            'remote_address': self.remote_address,
            'timestamp': self.timestamp.isoformat(),
            'quota_class': self.quota_class,
            'service_catalog': self.service_catalog,
            'message_resource_id': self.message_resource_id,
            'message_resource_type': self.message_resource_type,
            'message_action': self.message_action,
        })
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any],
                  **kwargs: Any) -> 'RequestContext':
        """Rebuild a context from to_dict() output, ours or Cinder's.

        Raises ValueError, naming every field of the wrong type, rather
        than coerce any: ``bool("false")`` is true.
        """
        found = problems(values)
        if found:
            raise ValueError('; '.join(found))
        for long_key, short_key in (('user_id', 'user'),
                                    ('project_id', 'project'),
                                    ('domain_id', 'domain'),
                                    ('user_domain_id', 'user_domain'),
                                    ('project_domain_id', 'project_domain')):
            kwargs.setdefault(long_key,
                              values.get(long_key) or values.get(short_key))
        return super().from_dict(values, **kwargs)

    def redacted_copy(self, **kwargs: Any) -> 'RequestContext':
        """A copy without credentials, fit for notifications and logs.

        Unlike oslo.context's, it keeps every other field (Cinder's
        notifications carry them all) and does not become the thread's
        current context.
        """
        clone = copy.copy(self)
        clone.auth_token = None
        clone.service_token = None
        clone.service_catalog = []
        for key, value in kwargs.items():
            setattr(clone, key, value)
        return clone

    @classmethod
    def anonymous(cls, values: dict[str, Any]) -> 'RequestContext':
        """A context with nothing of a refused one but its request id.

        For the log lines and notifications about a cast whose context
        cannot be trusted: they carry its request id when it is a string.
        """
        request_id = values.get('request_id')
        message_id = values.get('message_id')
        return cls(request_id=request_id if isinstance(request_id, str) and
                   len(request_id) <= _MAX_REQUEST_ID else None,
                   message_id=message_id if isinstance(message_id, str)
                   else None)


def get_admin_context() -> RequestContext:
    """A context for the worker's own work (heartbeats, CLI, maintenance)."""
    return RequestContext(is_admin=True, overwrite=False)
