"""The serializer sends our objects and hands received ones over as sent."""

import copy

from scheduler_worker import context
from scheduler_worker import objects
from scheduler_worker.objects import base
from scheduler_worker.objects import primitives
from tests import fixtures

SERIALIZER = base.ObjectSerializer()
CTX = context.RequestContext('u', 'p')


def test_own_volume_is_sent_as_a_primitive_and_read_back_as_sent():
    volume = objects.Volume(id='0da5e6b0-cc62-4f93-b967-79a973598bb3',
                            size=3, display_name='mine',
                            metadata={'a': 'b'})
    primitive = SERIALIZER.serialize_entity(CTX, volume)
    assert primitive['versioned_object.namespace'] == 'scheduler_worker'
    again = SERIALIZER.deserialize_entity(CTX, primitive)
    assert isinstance(again, primitives.Primitive)
    assert (again.namespace, again.name, again.version) == (
        'scheduler_worker', 'Volume', '1.0')
    assert primitives.volume_fields(again)['metadata'] == {'a': 'b'}


def test_nothing_received_is_coerced():
    """An object rebuilt by oslo.versionedobjects would take "false" for
    true; the serializer leaves the value for validation to refuse."""
    primitive = SERIALIZER.serialize_entity(CTX, objects.Volume(size=1))
    primitive['versioned_object.data']['bootable'] = 'false'
    again = SERIALIZER.deserialize_entity(CTX, primitive)
    assert primitives.volume_fields(again)['bootable'] == 'false'


def test_objects_nested_in_plain_arguments_are_read_too():
    args = copy.deepcopy(
        fixtures.wire_sample('create_volume_cast.json')['message']['args'])
    read = SERIALIZER.deserialize_entity(CTX, {'wrapped': args['volume']})
    assert isinstance(read['wrapped'], primitives.Primitive)


def test_plain_dicts_pass_through():
    volume = {'size': 1, 'display_name': 'plain'}
    assert SERIALIZER.deserialize_entity(CTX, volume) == volume
