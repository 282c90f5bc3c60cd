"""Cinder's resource methods outside Cinder mode: refused, reported once.

retype, migrations, manage and groups act on Cinder's rows, which a
standalone worker does not have: each cast is rejected as poison with one
ERROR notification saying so, and the queue goes on.
"""

import copy

import oslo_messaging
import pytest

from tests import fixtures


def _captured(operation: str, method: str) -> dict:
    return copy.deepcopy(next(
        m['message'] for m in fixtures.wire_sample(
            'cinder29/%s.json' % operation)['messages']
        if m['message'].get('method') == method and
        m['routing_key'] == 'cinder-scheduler'))


@pytest.mark.parametrize('operation, method', [
    ('retype_stay', 'retype'), ('migrate_volume', 'migrate_volume'),
    ('manage_existing', 'manage_existing'),
    ('manage_existing_snapshot', 'manage_existing_snapshot'),
    ('create_group', 'create_group')])
def test_a_cinder_only_cast_outside_cinder_mode_is_refused_and_reported(
        worker, operation, method):
    message = _captured(operation, method)
    context = {key[len('_context_'):]: value for key, value in
               message.items() if key.startswith('_context_')}
    client = oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer(), timeout=30)
    client.prepare(version=message['version']).cast(
        context, method, **message['args'])
    [report] = worker.notifications.wait_for('scheduler.%s' % method, 1)
    assert report['priority'] == 'ERROR'
    assert 'served in Cinder mode only' in report['payload']['reason']
