"""CapacityFilter: Cinder's decisions, plus the claims of every worker."""

import pytest

from scheduler_worker.scheduler import request
from scheduler_worker.scheduler.filters import capacity
from tests import fixtures


def _passes(size, pool_caps, allocated_gb=None, thick=False):
    caps = fixtures.lvm_capabilities(fixtures.lvm_pool('lvm', **pool_caps))
    pool = fixtures.pool(caps, allocated_gb=allocated_gb)
    volume_type = {'extra_specs': {'provisioning:type': 'thick'}} \
        if thick else {}
    return capacity.CapacityFilter(fixtures.make_conf()).backend_passes(
        pool, request.VolumeRequest(context=None, size=size,
                                    volume_type=volume_type))


def test_pool_with_room_passes():
    assert _passes(100, {'total_gb': 500, 'free_gb': 200})


def test_reserved_percentage_is_kept_free():
    # NOTE: 120 free, 40 (20% of 200) reserved: 80 left.
    caps = {'total_gb': 200, 'free_gb': 120, 'reserved_percentage': 20,
            'allocated_capacity_gb': 80}
    assert _passes(80, caps)
    assert not _passes(81, caps)


@pytest.mark.parametrize('free', ['infinite', 'unknown'])
def test_infinite_or_unknown_free_capacity_passes(free):
    assert _passes(10 ** 6, {'total_gb': 100, 'free_gb': free})


def test_unknown_total_passes_only_without_reserve():
    assert _passes(100, {'total_gb': 'unknown', 'free_gb': 10})
    assert not _passes(1, {'total_gb': 'infinite', 'free_gb': 10,
                           'reserved_percentage': 5})


def test_pool_reporting_no_capacity_fails():
    assert not _passes(1, {'total_gb': 0, 'free_gb': 0})


THIN = {'total_gb': 500, 'free_gb': 200, 'provisioned_capacity_gb': 500,
        'reserved_percentage': 5, 'max_over_subscription_ratio': 2.0,
        'thin_provisioning_support': True}


def test_thin_pool_passes_within_its_over_subscription_ratio():
    # NOTE: (500 + 100) / 500 = 1.2 <= 2.0, and (200 - 25) * 2 >= 100.
    assert _passes(100, THIN)


def test_thin_pool_fails_beyond_its_over_subscription_ratio():
    # NOTE: (900 + 200) / 500 = 2.2 > 2.0.
    assert not _passes(200, dict(THIN, provisioned_capacity_gb=900))


def test_thin_pool_fails_when_free_space_over_subscribed_is_short():
    # NOTE: (60 - 0) * 1.5 = 90 < 100, although 100 / 500 <= 1.5.
    assert not _passes(100, dict(THIN, free_gb=60, reserved_percentage=0,
                                 provisioned_capacity_gb=0,
                                 max_over_subscription_ratio='1.5'))


def test_thin_pool_with_ratio_below_one_fails():
    assert not _passes(1, dict(THIN, max_over_subscription_ratio=0.9))


def test_thick_volume_on_thin_pool_needs_real_free_space():
    caps = dict(THIN, free_gb=100, provisioned_capacity_gb=400,
                reserved_percentage=0)
    assert _passes(150, caps)
    assert not _passes(150, caps, thick=True)
    assert _passes(100, caps, thick=True)


def test_capacity_claimed_by_other_workers_counts():
    """Unlike Cinder's: claims made since the report are subtracted."""
    assert _passes(4, {'total_gb': 100, 'free_gb': 100}, allocated_gb=96)
    assert not _passes(5, {'total_gb': 100, 'free_gb': 100},
                       allocated_gb=96)


def test_explanation_gives_the_largest_room_left():
    pools = [fixtures.pool(fixtures.lvm_capabilities(
        fixtures.lvm_pool('lvm', 100)), host=host, allocated_gb=claimed)
        for host, claimed in (('a@lvm', 97), ('b@lvm', 98))]
    explained = capacity.CapacityFilter(fixtures.make_conf()).explain(
        pools, request.VolumeRequest(context=None, size=5))
    assert explained == ('No backend has 5 GiB of free capacity left (the '
                         'most is 3 GiB, on a@lvm#lvm)')


def test_the_pool_a_retyped_volume_is_on_passes_without_room():
    caps = fixtures.lvm_capabilities(fixtures.lvm_pool(
        'lvm', total_gb=100, free_gb=0))
    pool = fixtures.pool(caps, allocated_gb=100)
    check = capacity.CapacityFilter(fixtures.make_conf()).backend_passes
    assert check(pool, request.VolumeRequest(
        context=None, size=50, exists_on=pool.host))
    assert not check(pool, request.VolumeRequest(
        context=None, size=50, exists_on=pool.host + 'x'))
