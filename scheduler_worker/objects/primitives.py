"""Object primitives in casts, read as sent: which volumes are accepted.

The serializer rebuilds no object from a cast: rebuilding would coerce
fields (oslo.versionedobjects' BooleanField takes "false" for true), and
what a cast may carry depends on the argument. It hands every primitive
over as a Primitive; the readers here accept, as a create_volume volume,
a plain dict of Cinder's volume fields or a Volume 1.x of ours or of
Cinder's, and as its request spec a plain dict or Cinder's RequestSpec
1.x; anything else is refused with its name, namespace and version.
Objects nested in what is accepted (VolumeType, VolumeProperties, ...)
become plain data, as Cinder itself reports them in notifications.
"""

import dataclasses
from typing import Any

from scheduler_worker import exception

NAMESPACE = 'scheduler_worker'
CINDER_NAMESPACE = 'cinder'
_NAME = 'versioned_object.name'
_NS = 'versioned_object.namespace'
_VERSION = 'versioned_object.version'
_DATA = 'versioned_object.data'
_CHANGES = 'versioned_object.changes'

# NOTE: the majors whose fields we know. Cinder bumps the major only for
# incompatible changes, so a 2.x Volume is refused, not guessed at; a
# newer minor only adds fields, which are not read.
_MAJOR = '1'
_VOLUMES = frozenset({(NAMESPACE, 'Volume'), (CINDER_NAMESPACE, 'Volume')})
_REQUEST_SPECS = frozenset({(CINDER_NAMESPACE, 'RequestSpec')})


@dataclasses.dataclass(frozen=True)
class Primitive:
    """An object primitive as a cast sent it."""

    name: Any
    namespace: Any
    version: Any
    data: Any
    # NOTE: None when the sender listed no changes (Cinder lists none for
    # an object it has just saved).
    changes: Any = None

    @classmethod
    def of(cls, primitive: dict[str, Any]) -> 'Primitive':
        return cls(primitive.get(_NAME), primitive.get(_NS),
                   primitive.get(_VERSION), primitive.get(_DATA),
                   primitive.get(_CHANGES))

    def to_wire(self) -> dict[str, Any]:
        """The primitive as it was sent (to send it on)."""
        wire = {_NAME: self.name, _NS: self.namespace,
                _VERSION: self.version, _DATA: self.data}
        if self.changes is not None:
            wire[_CHANGES] = self.changes
        return wire

    def updated(self, **values: Any) -> 'Primitive':
        """A copy with these fields set in its data (and its changes, if
        it lists any), as the sender's object would be after setting them.
        """
        changes = self.changes
        if isinstance(changes, list):
            changes = changes + [k for k in values if k not in changes]
        return dataclasses.replace(self, data=dict(self.data, **values),
                                   changes=changes)

    def is_a(self, kinds: frozenset) -> bool:
        """Whether it is one of ``kinds`` ((namespace, name)), any version."""
        return (self.namespace, self.name) in kinds

    def refused(self, reason: str) -> exception.UnsupportedObject:
        return exception.UnsupportedObject(
            name=self.name, namespace=self.namespace, version=self.version,
            reason=reason)


def is_primitive(value: Any) -> bool:
    return isinstance(value, dict) and _NAME in value


def to_plain(value: Any) -> Any:
    """Unwrap object primitives, recursively, into dicts and lists."""
    if is_primitive(value):
        value = Primitive.of(value)
    if isinstance(value, Primitive):
        data = value.data
        if isinstance(data, dict) and set(data) == {'objects'}:
            return to_plain(data['objects'])
        return to_plain(data)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def volume_data(volume: Any) -> dict[str, Any] | None:
    """The data of what claims to be a volume, whatever its version.

    A plain dict, or the data of our or Cinder's Volume; None for anything
    else, which has no volume id to read.
    """
    if isinstance(volume, Primitive):
        return volume.data if volume.is_a(_VOLUMES) and isinstance(
            volume.data, dict) else None
    return volume if isinstance(volume, dict) else None


def volume_fields(volume: Any) -> dict[str, Any]:
    """The fields a create_volume cast asks for; Invalid if unacceptable."""
    if volume is None:
        raise exception.InvalidVolume(reason='volume is required')
    return _fields(volume, 'volume', _VOLUMES, 'a Volume',
                   exception.InvalidVolume)


def request_spec_fields(request_spec: Any) -> dict[str, Any]:
    """A cast's request spec as plain data ({} without one); Invalid if
    unacceptable."""
    if request_spec is None:
        return {}
    return _fields(request_spec, 'request_spec', _REQUEST_SPECS,
                   "Cinder's RequestSpec", exception.Invalid)


def _fields(value: Any, argument: str, kinds: frozenset, expected: str,
            invalid: type[exception.Invalid]) -> dict[str, Any]:
    if isinstance(value, Primitive):
        if not value.is_a(kinds):
            raise value.refused('%s must be a plain object or %s 1.x'
                                % (argument, expected))
        if str(value.version).split('.')[0] != _MAJOR:
            raise value.refused('%s must be %s 1.x' % (argument, expected))
        if not isinstance(value.data, dict):
            raise value.refused('its data must be an object')
        return to_plain(value.data)
    if not isinstance(value, dict):
        raise invalid(reason='%s must be an object, not %s'
                      % (argument, type(value).__name__))
    return to_plain(value)
