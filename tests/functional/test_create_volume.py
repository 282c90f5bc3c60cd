"""create_volume casts through the real dispatcher and serializers."""

import copy
import uuid

import oslo_messaging

from scheduler_worker import context
from scheduler_worker import notifications
from scheduler_worker import objects
from tests import fixtures

END = notifications.CREATE_END
ERROR = notifications.CREATE_ERROR


def _ctx():
    return context.RequestContext('user-1', 'project-1', is_admin=False,
                                  auth_token='SECRET-TOKEN-must-not-leak')


def _volume_row(worker, volume_id):
    rows = worker.db.rows('SELECT * FROM volumes WHERE id = :id',
                          id=volume_id)
    return rows[0] if rows else None


def _wait_row(worker, volume_id):
    return fixtures.wait_until(lambda: _volume_row(worker, volume_id),
                               what='volume %s' % volume_id)


def _cast_raw(worker, ctxt: dict, args: dict, version='3.0'):
    """Cast exactly what another client put on the wire."""
    client = oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer())
    client.prepare(version=version).cast(ctxt, 'create_volume', **args)


def _cinder_cast(volume_id):
    sample = fixtures.wire_sample('create_volume_cast.json')['message']
    ctxt = {k[len('_context_'):]: v for k, v in sample.items()
            if k.startswith('_context_')}
    args = copy.deepcopy(sample['args'])
    args['volume']['versioned_object.data']['id'] = volume_id
    spec = args['request_spec']['versioned_object.data']
    spec['volume_id'] = volume_id
    spec['volume']['versioned_object.data']['id'] = volume_id
    return ctxt, args


def test_rpcapi_cast_is_persisted_and_notified(worker, pools):
    volume_id = worker.api.create_volume(
        _ctx(), {'size': 3, 'display_name': 'data',
                 'availability_zone': 'az1', 'host': 'h@b#p',
                 'metadata': {'tier': 'gold'}})
    row = _wait_row(worker, volume_id)
    assert (row.size, row.display_name, row.status, row.host,
            row.user_id, row.project_id) == (
        3, 'data', 'creating', 'h@b#p', 'user-1', 'project-1')
    [note] = worker.notifications.wait_for(END, 1)
    assert note['publisher_id'] == 'scheduler.fn-host'
    payload = note['payload']
    assert payload['volume_id'] == volume_id
    assert payload['tenant_id'] == 'project-1'
    assert payload['metadata'] == [{'key': 'tier', 'value': 'gold'}]
    assert note['context']['auth_token'] is None
    assert 'SECRET-TOKEN' not in repr(note)


def test_volume_object_cast_is_persisted(worker, pools):
    volume = objects.Volume(size=1, display_name='ovo')
    volume_id = worker.api.create_volume(_ctx(), volume)
    assert _wait_row(worker, volume_id).display_name == 'ovo'


def test_cinder_wire_cast_is_persisted_with_cinder_fields(worker, pools):
    volume_id = str(uuid.uuid4())
    ctxt, args = _cinder_cast(volume_id)
    _cast_raw(worker, ctxt, args)
    row = _wait_row(worker, volume_id)
    assert (row.size, row.display_name, row.availability_zone,
            row.volume_type_id) == (
        2, 'cast-vol', 'nova', '1c3aa9b8-5915-49f7-a712-a0fb6f10df1d')
    # NOTE: the only pool in zone nova.
    assert row.host == 'fn-host@lvm#pool' and row.scheduled_at is not None
    # NOTE: Cinder leaves user and project empty on the Volume; they come
    # from the request spec's volume_properties.
    assert (row.user_id, row.project_id) == (
        '04b96562fac041678e8bdf9e91cc4000',
        '6498d2882b694f33bec9a73ca001db4b')
    volume = objects.Volume.get_by_id(context.get_admin_context(), volume_id)
    assert volume.metadata == {'purpose': 'wire-sample'}
    [note] = worker.notifications.wait_for(END, 1)
    assert note['context']['request_id'] == ctxt['request_id']
    assert note['context']['global_request_id'] == ctxt['global_request_id']
    assert note['context']['auth_token'] is None
    assert 'SECRET-TOKEN' not in repr(note)


def test_duplicate_cast_yields_one_row_and_one_notification(worker, pools):
    volume_id = str(uuid.uuid4())
    ctxt, args = _cinder_cast(volume_id)
    for _ in range(3):
        _cast_raw(worker, ctxt, args)
    _wait_row(worker, volume_id)
    worker.notifications.wait_for(END, 1)
    # NOTE: a later, different cast proves the duplicates were handled.
    marker = worker.api.create_volume(_ctx(), {'size': 1})
    _wait_row(worker, marker)
    worker.notifications.wait_for(END, 2)
    assert len(worker.db.rows('SELECT id FROM volumes WHERE id = :id',
                              id=volume_id)) == 1
    assert [n['payload']['volume_id'] for n in worker.notifications.of(END)
            ].count(volume_id) == 1


def test_plain_dict_without_id_gets_an_id_derived_from_its_message(
        worker, pools):
    ctxt = {'request_id': 'req-fixed', 'user_id': 'u', 'project_id': 'p'}
    _cast_raw(worker, ctxt, {'volume': {'size': 4}})
    [note] = worker.notifications.wait_for(END, 1)
    volume_id = note['payload']['volume_id']
    row = _wait_row(worker, volume_id)
    assert (row.size, row.user_id, row.project_id) == (4, 'u', 'p')


def test_invalid_volume_ends_in_error_with_cinder_failure_payload(worker):
    volume_id = str(uuid.uuid4())
    _cast_raw(worker, _ctx().to_dict(),
              {'volume': {'id': volume_id, 'size': 0, 'display_name': 'x'},
               'request_spec': {'volume_properties': {'size': 0}}})
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert note['priority'] == 'ERROR'
    cinder_keys = set(fixtures.wire_sample(
        'cinder_scheduler_create_volume_error_notification.json'
    )['message']['payload'])
    assert set(note['payload']) == cinder_keys
    assert note['payload']['volume_id'] == volume_id
    assert note['payload']['state'] == 'error'
    assert note['payload']['method'] == 'create_volume'
    assert note['payload']['reason'].startswith("InvalidVolume('")
    assert 'size must be between 1 and' in note['payload']['reason']
    row = _wait_row(worker, volume_id)
    assert (row.status, row.display_name) == ('error', 'x')
    assert worker.notifications.of(END) == []


def test_unsupported_cinder_volume_version_is_refused_by_name(worker):
    volume_id = str(uuid.uuid4())
    ctxt, args = _cinder_cast(volume_id)
    args['volume']['versioned_object.version'] = '2.0'
    _cast_raw(worker, ctxt, args)
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert 'Volume 2.0 from namespace cinder' in note['payload']['reason']
    assert _wait_row(worker, volume_id).status == 'error'


def test_volume_without_host_and_no_backend_is_refused(worker):
    volume_id = worker.api.create_volume(_ctx(), {'size': 1})
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert note['payload']['volume_id'] == volume_id
    assert note['payload']['reason'] == (
        "NoValidBackend('No valid backend was found. No backend has "
        "reported its capabilities yet')")
    row = _wait_row(worker, volume_id)
    assert (row.host, row.status, row.size) == (None, 'error', 1)
    assert worker.notifications.of(END) == []


def test_context_saying_is_admin_false_as_a_string_is_refused(worker,
                                                              pools):
    """bool("false") is true: the cast must not be handled as admin."""
    volume_id = str(uuid.uuid4())
    ctxt, args = _cinder_cast(volume_id)
    ctxt['is_admin'] = 'false'
    _cast_raw(worker, ctxt, args)
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert note['payload']['volume_id'] == volume_id
    assert note['payload']['reason'].startswith('InvalidContext(')
    assert "is_admin must be true or false, not 'false'" in \
        note['payload']['reason']
    # NOTE: nothing of the refused context is trusted but its request id.
    assert note['context']['is_admin'] is False
    assert note['context']['roles'] == []
    assert note['context']['request_id'] == ctxt['request_id']
    row = _wait_row(worker, volume_id)
    assert (row.status, row.host) == ('error', None)
    assert worker.notifications.of(END) == []


def test_an_object_that_is_not_a_volume_is_not_stored_as_one(worker,
                                                             pools):
    volume_id = str(uuid.uuid4())
    ctxt, args = _cinder_cast(volume_id)
    args['volume']['versioned_object.name'] = 'Snapshot'
    _cast_raw(worker, ctxt, args)
    [note] = worker.notifications.wait_for(ERROR, 1)
    assert 'Cannot accept object Snapshot 1.9 from namespace cinder' in \
        note['payload']['reason']
    assert note['payload']['volume_id'] is None
    # NOTE: a later cast proves this one was settled, storing nothing.
    marker = worker.api.create_volume(_ctx(), {'size': 1})
    _wait_row(worker, marker)
    assert _volume_row(worker, volume_id) is None


def test_unset_prefetch_and_pool_follow_the_concurrency(worker):
    conf = worker.conf
    assert conf.database.max_pool_size == conf.scheduler.concurrency + 2
    assert conf.database.max_overflow == 0
    assert conf.oslo_messaging_rabbit.rabbit_qos_prefetch_count == (
        conf.scheduler.concurrency + 1) * conf.scheduler.batch_size
