import pytest

from scheduler_worker.scheduler.filters import extra_specs_ops


@pytest.mark.parametrize('value,requirement,expected', [
    (True, '<is> True', True),
    ('True', '<is> True', True),
    (False, '<is> True', False),
    ('false', '<is> False', True),
    ('10', '== 10', True),
    (10.0, '== 10', True),
    (11, '== 10', False),
    (11, '!= 10', True),
    (12, '>= 10', True),
    (9, '>= 10', False),
    (12, '<= 10', False),
    (10, '<= 10', True),
    (12, '= 10', True),
    ('fast-ssd', '<in> ssd', True),
    ('hdd', '<in> ssd', False),
    ('abc', 's== abc', True),
    ('abd', 's== abc', False),
    ('abd', 's!= abc', True),
    ('abc', 's< abd', True),
    ('b', 's>= a', True),
    ('b', '<or> a <or> b <or> c', True),
    ('d', '<or> a <or> b <or> c', False),
    ('lvm', 'lvm', True),
    ('lvm', 'ceph', False),
    (True, 'True', True),
    (10, '10', True),
    ('many', '>= 10', False),
    (None, '>= 10', False),
    ([1], '== 1', False),
    ('x', '==', False)])
def test_cinder_operators(value, requirement, expected):
    assert extra_specs_ops.match(value, requirement) is expected
