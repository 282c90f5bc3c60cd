import datetime

from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import objects
from tests import fixtures


def test_usage_payload_has_every_field_cinder_sends():
    cinder = fixtures.wire_sample(
        'cinder_volume_create_end_notification.json')['message']['payload']
    volume = objects.Volume(
        id='d4b75fa5-eb67-4d4b-a846-55943b7c08f8', size=1, status='creating',
        project_id='p', user_id='u', host='h@b#p', availability_zone='nova',
        display_name='n', display_description=None, volume_type_id=None,
        snapshot_id=None, metadata={'purpose': 'wire-sample'},
        created_at=datetime.datetime(2026, 11, 28, 6, 30, 32, 439128),
        scheduled_at=None, launched_at=None)
    payload = notifications.volume_usage(volume)
    assert set(cinder) <= set(payload)
    assert payload['metadata'] == cinder['metadata']
    assert payload['created_at'] == '2026-11-28T06:30:32.439128+00:00'
    assert payload['tenant_id'] == 'p'


def test_failure_reason_is_spelled_like_cinder():
    exc = exception.NoValidBackend(reason='No weighed backends available')
    cinder = fixtures.wire_sample(
        'cinder_scheduler_create_volume_error_notification.json')
    assert notifications.exception_reason(exc) == (
        cinder['message']['payload']['reason'])
