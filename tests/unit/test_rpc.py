"""The serializers a cast's context and objects go through."""

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import rpc


def test_context_of_the_wrong_types_is_an_invalid_context():
    serializer = rpc.rpc_serializer()
    with pytest.raises(exception.InvalidContext,
                       match="is_admin must be true or false, not 'false'"):
        serializer.deserialize_context({'user_id': 'u', 'is_admin': 'false'})


def test_context_round_trips_through_the_serializer():
    serializer = rpc.rpc_serializer()
    sent = context.RequestContext('u', 'p', is_admin=False, roles=['member'])
    again = serializer.deserialize_context(serializer.serialize_context(sent))
    assert (again.user_id, again.project_id, again.is_admin, again.roles) == (
        'u', 'p', False, ['member'])
