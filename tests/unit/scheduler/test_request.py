from scheduler_worker.scheduler import request


def test_volume_zone_wins_over_the_request_spec_zones():
    spec = {'availability_zones': ['nova', 'az2']}
    assert request.VolumeRequest.from_cast(
        None, {'size': 1, 'availability_zone': 'az1'}, {}, spec
    ).availability_zones == ['az1']
    assert request.VolumeRequest.from_cast(
        None, {'size': 1}, {}, spec).availability_zones == ['nova', 'az2']
    assert request.VolumeRequest.from_cast(
        None, {'size': 1}, {}, {}).availability_zones == []


def test_volume_type_from_the_request_spec_or_the_volume():
    gold = {'name': 'gold', 'extra_specs': {'provisioning:type': 'thick',
                                            'multiattach': True}}
    from_spec = request.VolumeRequest.from_cast(
        None, {'size': 1}, {}, {'volume_type': gold})
    from_volume = request.VolumeRequest.from_cast(
        None, {'size': 1}, {'volume_type': gold}, {})
    assert from_spec.volume_type == from_volume.volume_type == gold
    assert from_spec.thick
    # NOTE: extra specs compare as the strings Cinder stores.
    assert from_spec.extra_specs['multiattach'] == 'True'


def test_no_volume_type_means_no_extra_specs():
    plain = request.VolumeRequest.from_cast(
        None, {'size': 2, 'host': 'h@b'}, {'volume_type': 'gold'}, {})
    assert (plain.extra_specs, plain.thick, plain.host) == ({}, False, 'h@b')
