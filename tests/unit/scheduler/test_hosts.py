import pytest

from scheduler_worker.scheduler import hosts


@pytest.mark.parametrize('level,expected', [
    ('host', 'HostA'), ('backend', 'HostA@BackendB'), ('pool', 'PoolC')])
def test_extract_host_gives_each_level(level, expected):
    assert hosts.extract_host('HostA@BackendB#PoolC', level) == expected


def test_extract_host_without_pool_gives_none_or_cinders_default():
    assert hosts.extract_host('HostA@BackendB', 'pool') is None
    assert hosts.extract_host('HostA@BackendB', 'pool',
                              default_pool_name=True) == '_pool0'
    assert hosts.extract_host('HostA', 'backend') == 'HostA'


def test_extract_host_refuses_an_unknown_level():
    with pytest.raises(ValueError, match='level must be one of'):
        hosts.extract_host('HostA@BackendB', 'cluster')


def test_append_host_joins_with_a_hash_unless_a_part_is_missing():
    assert hosts.append_host('HostA@BackendB', 'PoolC') == \
        'HostA@BackendB#PoolC'
    assert hosts.append_host('HostA@BackendB', None) == 'HostA@BackendB'
    assert hosts.append_host(None, 'PoolC') is None


def test_a_backend_matches_each_of_its_pools_a_pool_only_itself():
    assert hosts.matches('h@lvm#a', 'h@lvm')
    assert hosts.matches('h@lvm#a', 'h@lvm#a')
    assert not hosts.matches('h@lvm#a', 'h@lvm#b')
    assert not hosts.matches('h@lvm2#a', 'h@lvm')
