"""Checks on the volume a create_volume cast asks for, field by field.

Each check returns the value to store or raises ValueError with a sentence
a user can act on. ``check_volume`` runs them all, so that one cast reports
every problem at once, and keeps the fields that passed: a volume that is
refused is still recorded, in status error, with what could be trusted.
"""

from collections.abc import Callable
from typing import Any

from oslo_utils import uuidutils

MAX_STRING = 255
CREATE_STATUSES = ('creating',)
CREATE_ATTACH_STATUSES = ('detached',)


def _string(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError('%s must be a string, not %s'
                         % (name, type(value).__name__))
    if len(value) > MAX_STRING:
        raise ValueError('%s is %d characters long; at most %d are allowed'
                         % (name, len(value), MAX_STRING))
    if any(ord(c) < 32 and c not in '\t\n\r' for c in value):
        raise ValueError('%s must not contain NUL or control characters'
                         % name)
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        # NOTE: JSON may carry lone surrogates ("\ud800"), which no
        # database driver can encode.
        raise ValueError('%s must be valid Unicode text' % name) from None
    return value


def check_uuid(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not uuidutils.is_uuid_like(value):
        raise ValueError('%s must be a UUID, not %r' % (name, _short(value)))
    return value


def _boolean(name: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError('%s must be true or false, not %r'
                         % (name, _short(value)))
    return value


def _one_of(allowed: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def check(name: str, value: Any) -> str | None:
        if value is not None and value not in allowed:
            raise ValueError('%s must be %s for a new volume, not %r'
                             % (name, ' or '.join(allowed), _short(value)))
        return value
    return check


def _metadata(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list):
        # NOTE: notifications (and some clients) carry metadata as a list
        # of {"key": ..., "value": ...} pairs.
        try:
            value = {item['key']: item['value'] for item in value}
        except (TypeError, KeyError):
            raise ValueError('%s must be an object of strings'
                             % name) from None
    if not isinstance(value, dict):
        raise ValueError('%s must be an object of strings, not %s'
                         % (name, type(value).__name__))
    for key, item in value.items():
        if not key:
            raise ValueError('%s keys must not be empty' % name)
        _string('%s key %r' % (name, _short(key)), key)
        if not isinstance(item, str):
            raise ValueError('%s value of %r must be a string'
                             % (name, _short(key)))
        _string('%s value of %r' % (name, _short(key)), item)
    return dict(value)


def _short(value: Any, limit: int = 40) -> Any:
    text = repr(value)
    return value if len(text) <= limit else text[:limit] + '...'


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    'id': check_uuid,
    'user_id': _string,
    'project_id': _string,
    'host': _string,
    'cluster_name': _string,
    'availability_zone': _string,
    'status': _one_of(CREATE_STATUSES),
    'attach_status': _one_of(CREATE_ATTACH_STATUSES),
    'display_name': _string,
    'display_description': _string,
    'volume_type_id': check_uuid,
    'snapshot_id': check_uuid,
    'source_volid': check_uuid,
    'bootable': _boolean,
    'multiattach': _boolean,
    'metadata': _metadata,
}


def check_size(value: Any, max_size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError('size must be a whole number of GiB, not %r'
                         % (_short(value),))
    if not 1 <= value <= max_size:
        raise ValueError('size must be between 1 and %d GiB, not %d'
                         % (max_size, value))
    return value


def check_volume(raw: dict[str, Any],
                 max_size: int) -> tuple[dict[str, Any], list[str]]:
    """Check the fields of a requested volume.

    Returns the values that passed (unknown fields dropped) and the list of
    problems, empty when the volume can be created.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, check in _CHECKS.items():
        if name in raw:
            try:
                values[name] = check(name, raw[name])
            except ValueError as exc:
                problems.append(str(exc))
    if 'size' not in raw:
        problems.append('size is required')
    else:
        try:
            values['size'] = check_size(raw['size'], max_size)
        except ValueError as exc:
            problems.append(str(exc))
    return values, problems
