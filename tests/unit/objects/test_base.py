import copy

from scheduler_worker import context
from scheduler_worker import objects
from scheduler_worker.objects import base
from tests import fixtures

SERIALIZER = base.ObjectSerializer()
CTX = context.RequestContext('u', 'p')


def _cinder_args():
    message = fixtures.wire_sample('create_volume_cast.json')['message']
    return copy.deepcopy(message['args'])


def test_own_volume_primitive_round_trips():
    volume = objects.Volume(id='0da5e6b0-cc62-4f93-b967-79a973598bb3',
                            size=3, display_name='mine',
                            metadata={'a': 'b'})
    primitive = SERIALIZER.serialize_entity(CTX, volume)
    assert primitive['versioned_object.namespace'] == 'scheduler_worker'
    again = SERIALIZER.deserialize_entity(CTX, primitive)
    assert isinstance(again, objects.Volume)
    assert (again.id, again.size, again.metadata) == (
        volume.id, 3, {'a': 'b'})


def test_cinder_volume_becomes_its_fields():
    volume = SERIALIZER.deserialize_entity(CTX, _cinder_args()['volume'])
    assert volume['id'] == 'e5fd2ba0-69ef-4d31-8aff-faa8bf65d6d8'
    assert volume['size'] == 2
    assert volume['display_name'] == 'cast-vol'
    assert volume['metadata'] == {'purpose': 'wire-sample'}
    # NOTE: nested objects Cinder sends (VolumeType, attachments) are
    # unwrapped rather than refused.
    assert volume['volume_type']['name'] == '__DEFAULT__'
    assert volume['volume_attachment'] == []


def test_cinder_request_spec_becomes_plain_data():
    spec = SERIALIZER.deserialize_entity(CTX, _cinder_args()['request_spec'])
    assert spec['volume_properties']['user_id'] == (
        '04b96562fac041678e8bdf9e91cc4000')
    assert spec['volume_type']['projects'] == []
    assert 'versioned_object.name' not in repr(spec)


def test_unsupported_cinder_volume_version_is_left_for_the_endpoint():
    primitive = _cinder_args()['volume']
    primitive['versioned_object.version'] = '2.0'
    assert SERIALIZER.deserialize_entity(CTX, primitive) == primitive


def test_unknown_namespace_and_bad_own_version_are_left_as_sent():
    foreign = {'versioned_object.name': 'Volume',
               'versioned_object.namespace': 'nova',
               'versioned_object.version': '1.0',
               'versioned_object.data': {}}
    assert SERIALIZER.deserialize_entity(CTX, foreign) == foreign
    future = dict(foreign, **{'versioned_object.namespace':
                              'scheduler_worker',
                              'versioned_object.version': '9.0'})
    assert SERIALIZER.deserialize_entity(CTX, future) == future


def test_plain_dicts_pass_through():
    volume = {'size': 1, 'display_name': 'plain'}
    assert SERIALIZER.deserialize_entity(CTX, volume) == volume
