"""Which volumes and request specs a create_volume cast may carry."""

import copy

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker.objects import base
from scheduler_worker.objects import primitives
from tests import fixtures

CTX = context.RequestContext('u', 'p')


def _cinder_args():
    message = fixtures.wire_sample('create_volume_cast.json')['message']
    args = copy.deepcopy(message['args'])
    serializer = base.ObjectSerializer()
    return {key: serializer.deserialize_entity(CTX, value)
            for key, value in args.items()}


def test_cinder_volume_becomes_its_fields():
    volume = primitives.volume_fields(_cinder_args()['volume'])
    assert volume['id'] == 'e5fd2ba0-69ef-4d31-8aff-faa8bf65d6d8'
    assert volume['size'] == 2
    assert volume['display_name'] == 'cast-vol'
    assert volume['metadata'] == {'purpose': 'wire-sample'}
    # NOTE: nested objects Cinder sends (VolumeType, attachments) are
    # unwrapped rather than refused.
    assert volume['volume_type']['name'] == '__DEFAULT__'
    assert volume['volume_attachment'] == []


def test_cinder_request_spec_becomes_plain_data():
    spec = primitives.request_spec_fields(_cinder_args()['request_spec'])
    assert spec['volume_properties']['user_id'] == (
        '04b96562fac041678e8bdf9e91cc4000')
    assert spec['volume_type']['projects'] == []
    assert 'versioned_object' not in repr(spec)


def test_a_newer_minor_of_a_volume_is_read():
    volume = primitives.Primitive('Volume', 'scheduler_worker', '1.7',
                                  {'size': 4, 'future_field': 'x'})
    assert primitives.volume_fields(volume)['size'] == 4


@pytest.mark.parametrize('name,namespace,version,reason', [
    ('Volume', 'cinder', '2.0', 'volume must be a Volume 1.x'),
    ('Volume', 'scheduler_worker', '2.1', 'volume must be a Volume 1.x'),
    ('Volume', 'nova', '1.0', 'volume must be a plain object or a Volume'),
    ('Snapshot', 'cinder', '1.5', 'volume must be a plain object or a'),
    ('Frobnicator', 'scheduler_worker', '1.0', 'a plain object or'),
    ('Volume', 'cinder', None, 'volume must be a Volume 1.x'),
])
def test_anything_else_as_a_volume_is_refused_by_name(name, namespace,
                                                      version, reason):
    with pytest.raises(exception.UnsupportedObject) as refused:
        primitives.volume_fields(primitives.Primitive(
            name, namespace, version, {'size': 1}))
    message = str(refused.value)
    assert '%s %s from namespace %s' % (name, version, namespace) in message
    assert reason in message


def test_a_volume_whose_data_is_not_an_object_is_refused():
    with pytest.raises(exception.UnsupportedObject, match='its data must '
                       'be an object'):
        primitives.volume_fields(primitives.Primitive(
            'Volume', 'cinder', '1.9', ['size', 1]))


def test_a_request_spec_of_another_kind_is_refused():
    with pytest.raises(exception.UnsupportedObject, match="request_spec must "
                       "be a plain object or Cinder's RequestSpec"):
        primitives.request_spec_fields(primitives.Primitive(
            'Volume', 'cinder', '1.9', {}))
    with pytest.raises(exception.Invalid, match='request_spec must be an '
                       'object, not list'):
        primitives.request_spec_fields([])
    assert primitives.request_spec_fields(None) == {}


def test_volume_data_is_read_only_from_what_claims_to_be_a_volume():
    assert primitives.volume_data({'id': 'x'}) == {'id': 'x'}
    assert primitives.volume_data(primitives.Primitive(
        'Volume', 'cinder', '2.0', {'id': 'x'})) == {'id': 'x'}
    for other in (primitives.Primitive('Snapshot', 'cinder', '1.0',
                                       {'id': 'x'}),
                  primitives.Primitive('Volume', 'nova', '1.0', {'id': 'x'}),
                  'vol', None, ['id']):
        assert primitives.volume_data(other) is None
