"""The user messages, against the row Cinder 29's scheduler wrote."""

import json
import os

from scheduler_worker import cinder_messages
from scheduler_worker import context
from scheduler_worker import exception

WIRE = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'wire',
                    'cinder29')


def _ctx(**kwargs):
    return context.RequestContext('lab-user', 'proj', **kwargs)


def test_no_valid_backend_gives_the_row_cinder_wrote():
    with open(os.path.join(WIRE, 'db_facts.json')) as f:
        [row] = json.load(f)['no_valid_backend_messages']
    message = cinder_messages.create_volume_failed(
        context.RequestContext('lab-user', row['project_id'],
                               request_id=row['request_id']),
        row['resource_uuid'],
        exception.NoValidBackend(reason='No weighed backends available'))
    assert message == {key: row[key] for key in (
        'project_id', 'request_id', 'resource_type', 'resource_uuid',
        'action_id', 'detail_id')}


def test_any_other_failure_of_create_volume_is_an_unknown_error():
    message = cinder_messages.create_volume_failed(
        _ctx(), 'v', exception.InvalidVolume(reason='size'))
    assert (message['action_id'], message['detail_id']) == ('001', '001')


def test_extend_and_backup_failures_carry_cinders_action_and_detail():
    extend = cinder_messages.extend_volume_failed(
        _ctx(), 'v', exception.NoValidBackend('Cannot place volume v.'))
    assert (extend['resource_type'], extend['action_id'],
            extend['detail_id']) == ('VOLUME', '007', '003')
    backup = cinder_messages.create_backup_failed(_ctx(), 'b')
    assert (backup['resource_type'], backup['resource_uuid'],
            backup['action_id'], backup['detail_id']) == (
                'VOLUME_BACKUP', 'b', '013', '024')


def test_the_message_goes_to_the_callers_project():
    admin = context.RequestContext('admin', 'admin-project',
                                   request_id='req-1')
    message = cinder_messages.extend_volume_failed(
        admin, 'v', exception.NoValidBackend('x'))
    assert (message['project_id'], message['request_id']) == (
        'admin-project', 'req-1')
