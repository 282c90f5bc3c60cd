import datetime
import glob
import json
import os
import re

import pytest

from scheduler_worker import context
from tests import fixtures


def _cinder_context_dict():
    message = fixtures.wire_sample('create_volume_cast.json')['message']
    return {k[len('_context_'):]: v for k, v in message.items()
            if k.startswith('_context_')}


def test_positional_arguments_follow_cinder():
    ctx = context.RequestContext('user-1', 'project-1', is_admin=True)
    assert (ctx.user_id, ctx.project_id, ctx.is_admin) == (
        'user-1', 'project-1', True)
    assert ctx.read_deleted == 'no'
    assert ctx.request_id.startswith('req-')


def test_cinder_wire_context_is_rebuilt_with_every_field():
    values = _cinder_context_dict()
    ctx = context.RequestContext.from_dict(values)
    assert ctx.user_id == '04b96562fac041678e8bdf9e91cc4000'
    assert ctx.project_id == '6498d2882b694f33bec9a73ca001db4b'
    assert ctx.request_id == 'req-5c3a8f1e-9d2b-4c61-8f0a-0123456789ab'
    assert ctx.global_request_id == values['global_request_id']
    assert ctx.roles == ['admin']
    assert ctx.is_admin is True
    assert ctx.read_deleted == 'no'
    assert ctx.auth_token == 'SECRET-TOKEN-must-not-leak'
    assert ctx.timestamp == datetime.datetime(2026, 11, 28, 6, 9, 24, 310597)
    assert ctx.service_catalog == []


def test_round_trip_keeps_domains_names_and_cinder_fields():
    ctx = context.RequestContext(
        'user-1', 'project-1', is_admin=False, project_name='demo',
        user_name='alice', user_domain_id='udom', project_domain_id='pdom',
        domain_id='dom', user_domain_name='Users', project_domain_name='Prj',
        read_deleted='yes', remote_address='10.0.0.1', quota_class='gold',
        service_catalog=[{'type': 'volumev3'}], roles=['member'],
        request_id='req-1', global_request_id='req-g', system_scope=None,
        message_resource_id='r', message_resource_type='VOLUME',
        message_action=['001', 'schedule allocate volume'])
    again = context.RequestContext.from_dict(ctx.to_dict())
    assert again.to_dict() == ctx.to_dict()
    for attr in ('user_domain_id', 'project_domain_id', 'domain_id',
                 'user_name', 'project_name', 'user_domain_name',
                 'project_domain_name', 'remote_address', 'quota_class',
                 'timestamp', 'message_action'):
        assert getattr(again, attr) == getattr(ctx, attr), attr


def test_redacted_copy_has_no_credentials():
    ctx = context.RequestContext.from_dict(_cinder_context_dict())
    ctx.service_catalog = [{'endpoints': 'secret'}]
    redacted = ctx.redacted_copy()
    assert redacted.auth_token is None
    assert redacted.service_catalog == []
    assert 'SECRET-TOKEN' not in repr(redacted.to_dict())
    assert ctx.auth_token == 'SECRET-TOKEN-must-not-leak'


def test_message_id_is_kept_but_never_sent_on():
    ctx = context.RequestContext.from_dict({'message_id': 'm-1'})
    assert ctx.message_id == 'm-1'
    assert 'message_id' not in ctx.to_dict()


def _wire_contexts():
    """Every context Cinder 29 put on the wire in the captures."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            keys = [k for k in value if isinstance(k, str) and
                    k.startswith('_context_')]
            if keys:
                found.append({k[len('_context_'):]: value[k] for k in keys})
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.startswith('{'):
            walk(json.loads(value))
    for path in glob.glob(os.path.join(fixtures.WIRE_DIR, '**', '*.json'),
                          recursive=True):
        with open(path) as sample:
            walk(json.load(sample))
    return found


def test_every_context_cinder_sent_is_accepted_as_it_is():
    contexts = _wire_contexts()
    assert len(contexts) >= 3
    for values in contexts:
        ctx = context.RequestContext.from_dict(values)
        assert ctx.request_id == values['request_id']
        assert ctx.is_admin is values.get('is_admin', False)


def test_is_admin_false_as_a_string_is_refused_not_made_admin():
    values = dict(_cinder_context_dict(), is_admin='false')
    with pytest.raises(ValueError, match="is_admin must be true or false, "
                       "not 'false'"):
        context.RequestContext.from_dict(values)


@pytest.mark.parametrize('key,value,expected', [
    ('user_id', 42, 'user_id must be a string, not 42'),
    ('project_id', ['p'], "project_id must be a string, not ['p']"),
    ('user', {'id': 'u'}, 'user must be a string'),
    ('request_id', 7, 'request_id must be a string'),
    ('auth_token', True, 'auth_token must be a string'),
    ('roles', 'admin', "roles must be a list of strings, not 'admin'"),
    ('roles', ['member', 1], 'roles must be a list of strings'),
    ('read_only', 'no', 'read_only must be true or false'),
    ('show_deleted', 0, 'show_deleted must be true or false, not 0'),
    ('is_admin_project', None, 'is_admin_project must be true or false'),
    ('is_admin', 1, 'is_admin must be true or false, not 1'),
    ('read_deleted', 'maybe', "read_deleted must be no or yes or only"),
    ('timestamp', 'not-a-time', 'timestamp must be an ISO 8601 time'),
    ('timestamp', 1700000000, 'timestamp must be an ISO 8601 time'),
    ('service_catalog', 'catalog', 'service_catalog must be a list of '
     'objects'),
])
def test_a_field_of_the_wrong_type_is_refused(key, value, expected):
    values = dict(_cinder_context_dict(), **{key: value})
    with pytest.raises(ValueError, match=re.escape(expected)):
        context.RequestContext.from_dict(values)


def test_every_wrong_field_is_named_at_once():
    values = dict(_cinder_context_dict(), is_admin='true', roles='admin')
    with pytest.raises(ValueError) as refused:
        context.RequestContext.from_dict(values)
    assert 'is_admin' in str(refused.value)
    assert 'roles' in str(refused.value)


def test_anonymous_context_keeps_only_a_string_request_id():
    ctx = context.RequestContext.anonymous(
        {'request_id': 'req-x', 'is_admin': 'true', 'user_id': 5,
         'message_id': 'm-1', 'auth_token': 'SECRET'})
    assert (ctx.request_id, ctx.message_id) == ('req-x', 'm-1')
    assert (ctx.is_admin, ctx.user_id, ctx.auth_token) == (False, None, None)
    assert context.RequestContext.anonymous(
        {'request_id': ['req']}).request_id.startswith('req-')
