import pytest

from scheduler_worker.scheduler import capabilities
from tests import fixtures


@pytest.mark.parametrize('value,expected', [
    (10, 10.0), (10.5, 10.5), ('10.5', 10.5), (' 7 ', 7.0),
    ('infinite', 'infinite'), ('Unknown', 'unknown'), (None, 0.0),
    ('lots', 0.0), (True, 0.0), (float('nan'), 0.0), ([1], 0.0)])
def test_capacity_reads_numbers_and_cinders_two_words(value, expected):
    assert capabilities.capacity(value) == expected


def _thin(**caps):
    return dict({'thin_provisioning_support': True,
                 'total_capacity_gb': 100, 'free_capacity_gb': 80}, **caps)


@pytest.mark.parametrize('caps,expected', [
    (_thin(max_over_subscription_ratio=2.5), 2.5),
    (_thin(max_over_subscription_ratio='1.5'), 1.5),
    (_thin(), 20.0),
    (_thin(max_over_subscription_ratio='auto'), 20.0),
    (_thin(max_over_subscription_ratio='auto', provisioned_capacity_gb=42),
     1 + 42 / 21),
    (_thin(thin_provisioning_support=False,
           max_over_subscription_ratio=3.0), 1.0),
    (_thin(free_capacity_gb='infinite', max_over_subscription_ratio=3.0),
     1.0)])
def test_over_subscription_ratio_follows_cinder(caps, expected):
    assert capabilities.over_subscription_ratio(caps, '20.0') == \
        pytest.approx(expected)


def _limits(**caps):
    return capabilities.limits(caps, '20.0')


def test_thick_pool_may_hold_its_total_less_the_reserve():
    assert _limits(total_capacity_gb=100, free_capacity_gb=100) == (100, 100)
    assert _limits(total_capacity_gb=100, free_capacity_gb=100,
                   reserved_percentage=15) == (85, 85)


def test_space_used_by_other_things_than_volumes_is_not_claimable():
    # NOTE: 30 GiB of volumes, 10 GiB of something else.
    assert _limits(total_capacity_gb=100, free_capacity_gb=60,
                   allocated_capacity_gb=30) == (90, 90)


def test_volumes_created_since_the_last_report_do_not_change_limits():
    """Creating a volume moves its size from free to allocated."""
    before = _limits(total_capacity_gb=100, free_capacity_gb=100)
    after = _limits(total_capacity_gb=100, free_capacity_gb=70,
                    allocated_capacity_gb=30)
    assert before == after
    thin_before = _limits(**_thin(total_capacity_gb=100,
                                  free_capacity_gb=100,
                                  max_over_subscription_ratio=2))
    thin_after = _limits(**_thin(total_capacity_gb=100, free_capacity_gb=99,
                                 allocated_capacity_gb=30,
                                 provisioned_capacity_gb=30,
                                 max_over_subscription_ratio=2))
    assert thin_before[1] == thin_after[1] == 200


def test_thin_pool_may_hold_its_over_subscribed_capacity():
    assert _limits(**_thin(total_capacity_gb=500, free_capacity_gb=200,
                           provisioned_capacity_gb=500,
                           reserved_percentage=5,
                           max_over_subscription_ratio=2.0))[1] == \
        500 * 2 - 25 - 500


def test_thin_pool_with_a_ratio_below_one_holds_no_thin_volume():
    assert _limits(**_thin(max_over_subscription_ratio=0.5))[1] == 0


@pytest.mark.parametrize('caps,expected', [
    ({'total_capacity_gb': 100, 'free_capacity_gb': 'infinite'},
     (None, None)),
    ({'total_capacity_gb': 100, 'free_capacity_gb': 'unknown'},
     (None, None)),
    ({'total_capacity_gb': 'infinite', 'free_capacity_gb': 10},
     (None, None)),
    ({'total_capacity_gb': 'unknown', 'free_capacity_gb': 10,
      'reserved_percentage': 5}, (0, 0)),
    ({'total_capacity_gb': 0, 'free_capacity_gb': 0}, (0, 0)),
    ({}, (0, 0))])
def test_infinite_unknown_and_missing_capacities(caps, expected):
    assert _limits(**caps) == expected


def test_pool_records_overlay_backend_values_and_name_hosts():
    report = {'volume_backend_name': 'lvm', 'storage_protocol': 'iSCSI',
              'availability_zone': 'az-backend',
              'pools': [{'pool_name': 'a', 'total_capacity_gb': 10,
                         'free_capacity_gb': 10,
                         'allocated_capacity_gb': 2.5},
                        {'pool_name': 'b', 'total_capacity_gb': 5,
                         'free_capacity_gb': 5,
                         'availability_zone': 'az-pool'}]}
    a, b = capabilities.pool_records('h@lvm', report, 'nova', '20.0')
    assert (a['host'], a['availability_zone'], a['allocated_gb']) == (
        'h@lvm#a', 'az-backend', 3)
    assert a['capabilities']['storage_protocol'] == 'iSCSI'
    assert 'pools' not in a['capabilities']
    assert (b['host'], b['availability_zone'], b['physical_limit_gb']) == (
        'h@lvm#b', 'az-pool', 5)


def test_report_without_pools_is_one_pool_named_after_the_backend():
    [record] = capabilities.pool_records(
        'h@lvm', {'volume_backend_name': 'LVM_iSCSI',
                  'total_capacity_gb': 8, 'free_capacity_gb': 8},
        'nova', '20.0')
    assert (record['host'], record['availability_zone'],
            record['physical_limit_gb']) == ('h@lvm#LVM_iSCSI', 'nova', 8)
    [unnamed] = capabilities.pool_records('h@lvm', {}, 'nova', '20.0')
    assert unnamed['host'] == 'h@lvm#_pool0'


@pytest.mark.parametrize('host,caps,expected', [
    ('h@lvm#p', {}, 'must not contain "#"'),
    ('', {}, 'host must be a string'),
    ('h@lvm', ['pools'], 'capabilities must be an object'),
    ('h@lvm', {'pools': {'a': {}}}, 'pools must be a list of objects'),
    ('h@lvm', {'pools': [{'total_capacity_gb': 1}]}, "pool_name None"),
    ('h@lvm', {'pools': [{'pool_name': 'a'}, {'pool_name': 'a'}]},
     'pool names must be unique'),
    ('h@lvm', {'pools': [{'pool_name': 'a', 'availability_zone': 7}]},
     'availability_zone must be a string')])
def test_unusable_reports_are_described(host, caps, expected):
    assert expected in '; '.join(capabilities.problems(host, caps))


def test_a_cinder_lvm_report_has_no_problem():
    report = fixtures.lvm_capabilities(fixtures.lvm_pool('lvm', 100))
    assert capabilities.problems('hostA@lvm', report) == []
