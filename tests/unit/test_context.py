import datetime

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
        message_action='001')
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
