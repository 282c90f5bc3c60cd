from scheduler_worker.scheduler import request
from scheduler_worker.scheduler.filters import availability_zone
from tests import fixtures

CAPS = fixtures.lvm_capabilities(fixtures.lvm_pool('lvm', 100))


def _filter():
    return availability_zone.AvailabilityZoneFilter(fixtures.make_conf())


def _request(*zones):
    return request.VolumeRequest(context=None, size=1,
                                 availability_zones=list(zones))


def test_pool_in_the_requested_zone_passes():
    pool = fixtures.pool(CAPS, availability_zone='az1')
    assert _filter().backend_passes(pool, _request('az1'))
    assert _filter().backend_passes(pool, _request('az2', 'az1'))


def test_pool_in_another_zone_fails():
    pool = fixtures.pool(CAPS, availability_zone='az1')
    assert not _filter().backend_passes(pool, _request('az2'))


def test_any_zone_will_do_when_none_is_asked_for():
    assert _filter().backend_passes(fixtures.pool(CAPS), _request())


def test_explanation_names_the_zone_and_the_known_ones():
    pools = [fixtures.pool(CAPS, availability_zone=zone)
             for zone in ('nova', 'az1', 'nova')]
    assert _filter().explain(pools, _request('az9')) == (
        'No backend in availability zone "az9" (known zones: az1, nova)')
