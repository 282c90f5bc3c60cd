"""What a volume asks of the scheduler: size, zones, volume type, host."""

import dataclasses
from typing import Any


def _extra_specs(volume_type: dict[str, Any]) -> dict[str, str]:
    specs = volume_type.get('extra_specs')
    if not isinstance(specs, dict):
        return {}
    # NOTE: Cinder stores extra specs as strings; a plain-dict cast may
    # send JSON booleans or numbers, which compare as their text.
    return {str(key): str(value) for key, value in specs.items()}


@dataclasses.dataclass
class VolumeRequest:
    """One volume to place.

    ``availability_zones`` is empty when any zone will do; ``host`` names a
    backend (host@backend) or pool (host@backend#pool) the volume must go
    to, or is None to let the scheduler choose. ``excluded`` names the
    backends or pools it must not go to: those a volume service already
    tried and sent it back from (filter_properties['retry']['backends']).
    ``exists_on`` names the pool (Cinder's backend id: ``cluster_name or
    host``, pool level) the volume already occupies: it passes the
    capacity check there (Cinder's ``vol_exists_on``, set by a retype).
    """

    context: Any
    size: int
    availability_zones: list[str] = dataclasses.field(default_factory=list)
    volume_type: dict[str, Any] = dataclasses.field(default_factory=dict)
    host: str | None = None
    request_spec: dict[str, Any] = dataclasses.field(default_factory=dict)
    excluded: list[str] = dataclasses.field(default_factory=list)
    exists_on: str | None = None

    @property
    def extra_specs(self) -> dict[str, str]:
        return _extra_specs(self.volume_type)

    @property
    def thick(self) -> bool:
        """Whether the volume type asks for thick provisioning (Cinder's
        ``provisioning:type`` extra spec); thin pools then count it at
        its full size against their physical capacity."""
        return self.extra_specs.get('provisioning:type') == 'thick'

    @classmethod
    def from_cast(cls, context, values: dict[str, Any], raw: dict[str, Any],
                  request_spec: dict[str, Any],
                  excluded: list[str] = ()) -> 'VolumeRequest':
        """The request of a checked create_volume cast.

        The zone is the volume's own, else the request spec's
        ``availability_zones`` (Cinder's API fills both). The volume type
        comes from the request spec (Cinder's cast), else from the volume.
        """
        zone = values.get('availability_zone')
        zones = [zone] if zone else [
            z for z in request_spec.get('availability_zones') or []
            if isinstance(z, str) and z]
        volume_type = request_spec.get('volume_type') or \
            raw.get('volume_type')
        # NOTE: Cinder's API sets resource_backend when the volume must
        # land where its group, source volume or snapshot is.
        backend = request_spec.get('resource_backend')
        return cls(context=context, size=values['size'],
                   availability_zones=zones,
                   volume_type=volume_type if isinstance(
                       volume_type, dict) else {},
                   host=values.get('host') or (
                       backend if isinstance(backend, str) and backend
                       else None), request_spec=request_spec,
                   excluded=list(excluded))
