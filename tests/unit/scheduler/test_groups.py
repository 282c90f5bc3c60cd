"""validate_host_capacity on a real SQLite database, default filters."""

import copy

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker.objects import primitives
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import groups
from tests import fixtures


def _cinder_spec(size) -> primitives.Primitive:
    """The request spec cinder-api sent in the lab, with ``size``."""
    message = next(
        m['message'] for m in fixtures.wire_sample(
            'cinder29/create_group_from_group_snapshot.json')['messages']
        if m['message'].get('method') == 'validate_host_capacity')
    spec = copy.deepcopy(message['args']['request_spec'])
    spec['versioned_object.data']['volume_properties'][
        'versioned_object.data']['size'] = size
    return primitives.Primitive.of(spec)


@pytest.fixture
def validate(sqlite_db):
    fixtures.static_backend('a@lvm#p1', 100, 'nova')
    fixtures.static_backend('a@lvm#p2', 50, 'nova')
    fixtures.static_backend('b@lvm#p', 300, 'az1', extra={'tier': 'gold'})
    scheduler = driver.FilterScheduler(fixtures.make_conf())

    def answer(backend, size, spec=None, filter_properties=None):
        return groups.validate_host_capacity(
            scheduler, context.get_admin_context(), backend,
            spec or _cinder_spec(size), filter_properties)
    return answer


def test_a_backend_passes_when_one_of_its_pools_holds_the_size(validate):
    assert validate('a@lvm', 100) is True
    assert validate('a@lvm#p2', 50) is True
    assert validate('a@lvm#p2', 51) is False
    assert validate('a@lvm', 101) is False


def test_an_unknown_backend_or_pool_does_not_pass(validate):
    assert validate('x@lvm', 1) is False
    assert validate('a@lvm#p3', 1) is False
    # NOTE: as Cinder: a host without a backend names no backend.
    assert validate('a', 1) is False


def test_the_request_specs_volume_type_and_zone_are_filtered_on(validate):
    gold = {'volume_type': {'name': 'gold', 'extra_specs': {'tier': 'gold'}},
            'volume_properties': {'size': 1}}
    assert validate('b@lvm', 1, spec=gold) is True
    assert validate('a@lvm', 1, spec=gold) is False
    in_az1 = {'volume_properties': {'size': 1, 'availability_zone': 'az1'}}
    assert validate('b@lvm', 1, spec=in_az1) is True
    assert validate('a@lvm', 1, spec=in_az1) is False


@pytest.mark.parametrize('backend, spec, filter_properties, reason', [
    (None, {'volume_properties': {'size': 1}}, None, 'backend must be'),
    (['a@lvm'], {'volume_properties': {'size': 1}}, None,
     'backend must be'),
    ('a@lvm', {'volume_properties': {'size': '1'}}, None,
     "size must be an integer of GiB >= 0, not '1'"),
    ('a@lvm', {'volume_properties': {'size': True}}, None,
     'not True'),
    ('a@lvm', {'volume_properties': {'size': -1}}, None, 'not -1'),
    ('a@lvm', {'volume_properties': {}}, None, 'not None'),
    ('a@lvm', {}, None, 'volume_properties must be an object'),
    ('a@lvm', None, None, 'volume_properties must be an object'),
    ('a@lvm', {'volume_properties': {'size': 1}}, [],
     'filter_properties must be an object or null, not list'),
])
def test_a_malformed_call_is_refused(backend, spec, filter_properties,
                                     reason):
    with pytest.raises(exception.Invalid) as raised:
        groups.capacity_request(context.get_admin_context(), backend, spec,
                                filter_properties)
    assert reason in str(raised.value)


def test_an_object_other_than_a_request_spec_is_refused():
    volume = primitives.Primitive.of({
        'versioned_object.name': 'Volume',
        'versioned_object.namespace': 'cinder',
        'versioned_object.version': '1.9',
        'versioned_object.data': {'size': 1}})
    with pytest.raises(exception.UnsupportedObject):
        groups.capacity_request(context.get_admin_context(), 'a@lvm',
                                volume, None)
