"""Cinder's object primitives, turned into what this worker understands.

Cinder casts its own objects (namespace ``cinder``). We accept Volume 1.x
as a Volume; every other Cinder object (RequestSpec, VolumeType,
VolumeProperties, lists, ...) becomes the plain dict of its fields, which
is how Cinder itself reports them in notifications.
"""

from typing import Any

NAMESPACE = 'cinder'
_NAME = 'versioned_object.name'
_NS = 'versioned_object.namespace'
_VERSION = 'versioned_object.version'
_DATA = 'versioned_object.data'

# NOTE: the Volume majors whose fields we know. Cinder bumps the major only
# for incompatible changes, so a 2.x Volume is refused, not guessed at.
VOLUME_MAJORS = ('1',)


def is_primitive(value: Any) -> bool:
    return isinstance(value, dict) and _NAME in value and _DATA in value


def to_plain(value: Any) -> Any:
    """Unwrap object primitives, recursively, into dicts and lists."""
    if is_primitive(value):
        data = value[_DATA]
        if isinstance(data, dict) and set(data) == {'objects'}:
            return to_plain(data['objects'])
        return to_plain(data)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def volume_version_supported(primitive: dict[str, Any]) -> bool:
    version = str(primitive.get(_VERSION, ''))
    return version.split('.')[0] in VOLUME_MAJORS


def from_primitive(primitive: dict[str, Any]) -> Any:
    """A Cinder primitive as the endpoint should see it.

    A Volume of a major we know becomes its plain field dict (validated and
    turned into our Volume by the endpoint, with precise errors); a Volume
    of another major stays a primitive, which the endpoint refuses with its
    name and version. Any other Cinder object becomes plain data.
    """
    if primitive.get(_NAME) == 'Volume' and not volume_version_supported(
            primitive):
        return primitive
    return to_plain(primitive)


def describe(primitive: dict[str, Any]) -> dict[str, Any]:
    """Name, namespace and version of a primitive, for error messages."""
    return {'name': primitive.get(_NAME), 'namespace': primitive.get(_NS),
            'version': primitive.get(_VERSION)}
