"""The lean reference's rows: decoded casts, volume rows, notifications."""

import datetime
import json
import uuid

import pytest

from benchmarks import casts
from benchmarks.lean import rows

NOW = datetime.datetime(2026, 12, 2, 0, 40, 12, 625197)
POOL = rows.Pool(7, 'bench@lvm#pool', 'pool-zone')
# NOTE: Cinder's volume usage payload, as the worker sends it (DESIGN.md).
USAGE_KEYS = {
    'tenant_id', 'user_id', 'volume_id', 'display_name',
    'display_description', 'size', 'status', 'host', 'availability_zone',
    'volume_type', 'snapshot_id', 'created_at', 'scheduled_at',
    'launched_at', 'metadata', 'volume_attachment', 'replication_status',
    'replication_extended_status', 'replication_driver_data'}


def _mix_casts():
    mix = casts.CastMix()
    (cinder_id, cinder), (plain_id, plain) = mix.next(), mix.next()
    return (cinder_id, rows.decode(cinder.encode())), (plain_id,
                                                       rows.decode(plain))


def _body(volume: object, method: object = 'create_volume') -> str:
    message = {'method': method, 'version': '3.0', '_context_user_id': 'u',
               'args': {'volume': volume}}
    return json.dumps({'oslo.version': '2.0',
                       'oslo.message': json.dumps(message)})


def _volume(**fields) -> dict:
    return dict({'id': str(uuid.uuid4()), 'size': 1}, **fields)


def test_decode_reads_both_layers_of_cinder_and_plain_casts():
    (cinder_id, cinder), (plain_id, plain) = _mix_casts()
    assert cinder.volume['id'] == cinder_id
    assert cinder.volume['volume_type_id'] is not None
    assert plain.volume == dict(plain.volume, id=plain_id, size=1,
                                display_name='bench-vol')
    assert cinder.context['_context_request_id'].startswith('req-')
    assert plain.context['_context_user_id'] == 'bench-user'


def test_decode_drops_the_token_from_the_context():
    message = {'method': 'create_volume', '_context_auth_token': 'secret',
               'args': {'volume': _volume()}}
    cast = rows.decode(json.dumps({'oslo.version': '2.0',
                                   'oslo.message': json.dumps(message)}))
    assert cast.context == {'_context_auth_token': None}


@pytest.mark.parametrize('body', [
    b'not json',
    json.dumps({'oslo.version': '2.0'}),
    json.dumps({'oslo.version': '2.0', 'oslo.message': '[1, 2]'}),
    _body('a volume'),
    _body(_volume(), method='delete_volume'),
    _body(_volume(), method=None),
    _body(_volume(size='1')),
    _body(_volume(size=True)),
    _body(_volume(size=0)),
    _body(_volume(size=1.5)),
    _body(_volume(id='not-a-uuid')),
    _body(_volume(id=str(uuid.uuid4()).replace('-', '') + 'abcd')),
    _body({'size': 1}),
    _body(_volume(metadata=['k', 'v'])),
])
def test_decode_refuses_what_fails_the_minimal_checks(body):
    with pytest.raises(rows.Refused):
        rows.decode(body)


def test_plan_places_each_volume_on_the_pool_with_the_callers_ids():
    (cinder_id, cinder), (plain_id, plain) = _mix_casts()
    planned = rows.plan([cinder, plain], POOL, 'scheduler.lean', NOW)
    assert list(planned) == [cinder_id, plain_id]
    stored = dict(zip(rows.VOLUME_COLUMNS, planned[cinder_id].volume,
                      strict=True))
    # NOTE: Cinder's volume has no project or user: the context's count.
    assert stored['project_id'] == cinder.context['_context_project_id']
    assert stored['user_id'] == cinder.context['_context_user_id']
    assert stored['host'] == 'bench@lvm#pool'
    assert stored['availability_zone'] == 'nova'
    assert stored['status'] == 'creating'
    assert stored['created_at'] == stored['scheduled_at'] == NOW
    assert stored['deleted'] is False
    assert planned[cinder_id].metadata == [
        (cinder_id, 'purpose', 'wire-sample', NOW, False)]
    assert planned[plain_id].size == 1


def test_plan_takes_the_pools_zone_when_the_volume_has_none():
    cast = rows.decode(_body(_volume(availability_zone=None)))
    [planned] = rows.plan([cast], POOL, 'scheduler.lean', NOW).values()
    assert dict(zip(rows.VOLUME_COLUMNS, planned.volume, strict=True))[
        'availability_zone'] == 'pool-zone'


def test_plan_does_not_coerce_flags():
    cast = rows.decode(_body(_volume(bootable='false', multiattach=True)))
    [planned] = rows.plan([cast], POOL, 'scheduler.lean', NOW).values()
    stored = dict(zip(rows.VOLUME_COLUMNS, planned.volume, strict=True))
    assert (stored['bootable'], stored['multiattach']) == (False, True)


def test_plan_counts_a_repeated_volume_once():
    volume = _volume()
    first, again = rows.decode(_body(volume)), rows.decode(_body(volume))
    planned = rows.plan([first, again], POOL, 'scheduler.lean', NOW)
    assert list(planned) == [volume['id']]


def test_notification_is_the_messagingv2_envelope_of_the_end_event():
    (cinder_id, cinder), _ = _mix_casts()
    planned = rows.plan([cinder], POOL, 'scheduler.bench-lean', NOW)[
        cinder_id]
    envelope = json.loads(planned.body)
    assert envelope['oslo.version'] == '2.0'
    message = json.loads(envelope['oslo.message'])
    assert message['message_id'] == planned.message_id
    assert message['event_type'] == 'scheduler.create_volume.end'
    assert message['priority'] == 'INFO'
    assert message['publisher_id'] == 'scheduler.bench-lean'
    assert message['_context_auth_token'] is None
    assert message['_context_request_id'] == cinder.context[
        '_context_request_id']
    payload = message['payload']
    assert set(payload) == USAGE_KEYS
    assert payload['volume_id'] == cinder_id
    assert payload['host'] == 'bench@lvm#pool'
    assert payload['created_at'] == '2026-12-02T00:40:12.625197+00:00'
    assert payload['metadata'] == [{'key': 'purpose',
                                    'value': 'wire-sample'}]


def test_every_notification_has_its_own_message_id():
    _, (plain_id, plain) = _mix_casts()
    first = rows.plan([plain], POOL, 'p', NOW)[plain_id]
    second = rows.plan([plain], POOL, 'p', NOW)[plain_id]
    assert first.message_id != second.message_id
