import pytest

from scheduler_worker import validation

VALID = {'id': '0da5e6b0-cc62-4f93-b967-79a973598bb3', 'size': 1,
         'display_name': 'vol', 'availability_zone': 'nova',
         'status': 'creating', 'attach_status': 'detached',
         'metadata': {'purpose': 'test'}, 'bootable': False}


def _check(**changes):
    return validation.check_volume(dict(VALID, **changes), max_size=100)


def test_valid_volume_passes_and_unknown_fields_are_dropped():
    values, problems = _check(ec2_id='x', provider_location='y')
    assert problems == []
    assert 'ec2_id' not in values
    assert values['size'] == 1


@pytest.mark.parametrize('size,expected', [
    (0, 'between 1 and 100'), (101, 'between 1 and 100'),
    (-1, 'between 1 and 100'), ('2', 'whole number'),
    (1.5, 'whole number'), (True, 'whole number'), (None, 'whole number'),
])
def test_size_must_be_whole_gib_within_bounds(size, expected):
    _, problems = _check(size=size)
    assert len(problems) == 1 and expected in problems[0]


def test_size_is_required():
    raw = dict(VALID)
    del raw['size']
    _, problems = validation.check_volume(raw, max_size=100)
    assert problems == ['size is required']


@pytest.mark.parametrize('field,value,expected', [
    ('id', 'not-a-uuid', 'id must be a UUID'),
    ('volume_type_id', 42, 'volume_type_id must be a UUID'),
    ('display_name', 'x' * 256, 'at most 255'),
    ('display_name', 'a\x00b', 'NUL or control'),
    ('display_name', 'lone \ud800', 'valid Unicode text'),
    ('metadata', {'k': '\udfff'}, 'valid Unicode text'),
    ('availability_zone', ['nova'], 'must be a string'),
    ('status', 'available', "status must be creating"),
    ('attach_status', 'attached', 'attach_status must be detached'),
    ('metadata', {'k': 1}, 'must be a string'),
    ('metadata', 'k=v', 'object of strings'),
    ('metadata', {'': 'v'}, 'must not be empty'),
    ('bootable', 'yes', 'true or false'),
])
def test_each_bad_field_is_named_in_the_problem(field, value, expected):
    values, problems = _check(**{field: value})
    assert len(problems) == 1 and expected in problems[0], problems
    assert field not in values


def test_all_problems_are_reported_and_good_fields_kept():
    values, problems = _check(size=0, display_name='\x00')
    assert len(problems) == 2
    assert values['id'] == VALID['id']
    assert values['availability_zone'] == 'nova'


def test_metadata_as_key_value_list_is_accepted():
    values, problems = _check(metadata=[{'key': 'a', 'value': 'b'}])
    assert problems == [] and values['metadata'] == {'a': 'b'}
