"""The worker in Cinder mode on Cinder 29's real schema (PostgreSQL).

Casts are cinder-api's and cinder-volume's as captured in the lab
(tests/wire/cinder29/), their ids replaced by rows of this test's Cinder
database; the transport is fake://, the volume and backup services real
RPC servers listening where Cinder's listen.
"""

import copy
import json
import os
import uuid

import oslo_messaging
from oslo_utils import timeutils
import pytest

from scheduler_worker import service
from tests import fixtures

WIRE = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'wire',
                    'cinder29')
HOST = 'sched-host'
SCHEDULER_ROW = ('SELECT * FROM services WHERE "binary" = '
                 "'cinder-scheduler'")


def _wire(operation: str) -> list[dict]:
    with open(os.path.join(WIRE, operation + '.json')) as f:
        return json.load(f)['messages']


def _to_scheduler(operation: str, index: int = 0) -> dict:
    return [m['message'] for m in _wire(operation)
            if m['routing_key'] == 'cinder-scheduler'][index]


def _context(message: dict) -> dict:
    return {k[len('_context_'):]: v for k, v in message.items()
            if k.startswith('_context_')}


def _data(primitive: dict) -> dict:
    return primitive['versioned_object.data']


class Lab:
    """The worker in Cinder mode, and the services it casts to."""

    # NOTE: what the volume services' captures answer (a module testing
    # other methods subclasses the lab).
    VOLUME_METHODS = ('create_volume', 'extend_volume', 'create_snapshot')
    VOLUME_VERSION = '3.0'

    def __init__(self, cinder_db, wait_time: int = 0) -> None:
        self.db = cinder_db
        self.conf = fixtures.make_conf(
            transport_url='fake:/', host=HOST,
            scheduler__topic='cinder-scheduler', database__backend='cinder',
            scheduler__driver_init_wait_time=wait_time)
        self.transport = oslo_messaging.get_rpc_transport(self.conf)
        self.notes = oslo_messaging.get_notification_transport(self.conf)
        self.notifications = fixtures.NotificationCapture(self.notes)
        self.volume = {backend: fixtures.VolumeServiceCapture(
            self.transport, 'cinder-volume.lab@' + backend, 'lab',
            version=self.VOLUME_VERSION, methods=self.VOLUME_METHODS)
            for backend in ('b1', 'b2')}
        self.fanout = fixtures.VolumeServiceCapture(
            self.transport, 'cinder-volume', 'lab',
            methods=('publish_service_capabilities',))
        self.backup = fixtures.VolumeServiceCapture(
            self.transport, 'cinder-backup', 'lab', version='2.2',
            methods=('create_backup', 'publish_service_capabilities'))
        self.worker = service.WorkerService(
            self.conf, transport=self.transport,
            notification_transport=self.notes)
        self.worker.start()
        self.client = oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(topic='cinder-scheduler'),
            serializer=oslo_messaging.NoOpSerializer(), timeout=30)

    def report(self, backup: bool = True) -> None:
        """Cinder's services' capability reports, as in the lab."""
        for message in _wire('startup'):
            body = message['message']
            if body.get('method') != 'update_service_capabilities':
                continue
            args = body['args']
            if args['host'] == 'lab@b3' or (
                    args['service_name'] == 'backup' and not backup):
                continue
            self.cast(_context(body), 'update_service_capabilities',
                      version='3.3', **args)

    def cast(self, ctxt: dict, method: str, version: str = '3.0',
             **args) -> None:
        self.client.prepare(version=version).cast(ctxt, method, **args)

    def call(self, method: str, **args):
        return self.client.prepare(version='3.0').call({}, method, **args)

    def stop(self) -> None:
        self.worker.stop()
        for capture in [*self.volume.values(), self.fanout, self.backup]:
            capture.stop()
        self.notifications.stop()
        self.transport.cleanup()
        self.notes.cleanup()


@pytest.fixture
def lab(cinder_db):
    running = Lab(cinder_db)
    try:
        running.report()
        fixtures.wait_until(lambda: len(running.call('get_pools')) == 2,
                            what='both pools reported')
        yield running
    finally:
        running.stop()


def _create_args(volume_id: str, size: int = 1) -> tuple[dict, dict]:
    """cinder-api's create_volume cast, for this volume."""
    message = copy.deepcopy(_to_scheduler('create_volume'))
    args = message['args']
    spec = _data(args['request_spec'])
    spec['volume_id'] = volume_id
    for volume in (_data(args['volume']), _data(spec['volume'])):
        volume['id'] = volume_id
        volume['size'] = size
    _data(spec['volume_properties'])['size'] = size
    return _context(message), args


def test_the_services_row_is_cinder_schedulers_and_services_report(lab):
    row = lab.db.row(SCHEDULER_ROW)
    assert (row['host'], row['topic'], row['rpc_current_version'],
            row['object_current_version']) == (
                HOST, 'cinder-scheduler', '3.12', '1.39')
    assert lab.fanout.wait_for(1)[0]['method'] == \
        'publish_service_capabilities'
    assert lab.backup.wait_for(1)[0]['method'] == \
        'publish_service_capabilities'


def test_a_volume_is_placed_in_cinders_row_and_handed_over(lab):
    volume_id = lab.db.add_volume(size=1)
    ctxt, args = _create_args(volume_id)
    lab.cast(ctxt, 'create_volume', **args)
    row = fixtures.wait_until(lambda: (lambda r: r if r['host'] else None)(
        lab.db.row('SELECT * FROM volumes WHERE id = :id', id=volume_id)),
        what='the volume placed')
    assert row['host'] in ('lab@b1#lab', 'lab@b2#lab')
    assert (row['status'], row['availability_zone']) == ('creating', 'nova')
    assert row['scheduled_at'] is not None
    service_id = lab.db.row(SCHEDULER_ROW)['id']
    worker = lab.db.row("SELECT * FROM workers WHERE resource_id = :id",
                        id=volume_id)
    assert (worker['service_id'], worker['race_preventer']) == (
        service_id, 1)
    backend = row['host'].split('@')[1].split('#')[0]
    [cast] = lab.volume[backend].wait_for(1)
    sent = _data(cast['args']['volume'])
    assert (sent['id'], sent['host']) == (volume_id, row['host'])
    assert cast['context']['auth_token'] == ctxt['auth_token']
    assert cast['args']['filter_properties']['retry']['num_attempts'] == 1


def test_a_redelivered_cast_is_handed_over_once(lab):
    volume_id = lab.db.add_volume(size=1)
    ctxt, args = _create_args(volume_id)
    lab.cast(ctxt, 'create_volume', **args)
    lab.cast(ctxt, 'create_volume', **args)
    fixtures.wait_until(lambda: sum(len(c.casts)
                                    for c in lab.volume.values()) >= 1,
                        what='the hand-off')
    # NOTE: the second cast is settled once its key is found handled.
    fixtures.wait_until(lambda: lab.db.rows(
        'SELECT count(*) FROM scheduler_worker_handled_casts')[0][0] == 1,
        what='one handled cast')
    lab.call('get_pools')
    assert sum(len(c.casts) for c in lab.volume.values()) == 1


def test_a_volume_no_pool_can_hold_ends_in_error_with_a_user_message(lab):
    volume_id = lab.db.add_volume(size=5000)
    ctxt, args = _create_args(volume_id, size=5000)
    lab.cast(ctxt, 'create_volume', **args)
    [note] = lab.notifications.wait_for('scheduler.create_volume', 1)
    assert note['payload']['volume_id'] == volume_id
    row = lab.db.row('SELECT status, host FROM volumes WHERE id = :id',
                     id=volume_id)
    assert (row['status'], row['host']) == ('error', None)
    message = lab.db.row('SELECT * FROM messages WHERE resource_uuid = :id',
                         id=volume_id)
    assert (message['event_id'], message['project_id'],
            message['request_id']) == (
                'VOLUME_VOLUME_001_003', ctxt['project_id'],
                ctxt['request_id'])
    assert lab.db.rows('SELECT * FROM workers WHERE resource_id = :id',
                       id=volume_id) == []
    assert all(c.casts == [] for c in lab.volume.values())


def test_a_volume_sent_back_goes_to_the_other_backend(lab):
    volume_id = lab.db.add_volume(size=1)
    ctxt, args = _create_args(volume_id)
    args['filter_properties'] = {'retry': {
        'num_attempts': 1, 'backends': ['lab@b1#lab'],
        'hosts': ['lab@b1#lab'], 'exc': ['Traceback: create failed']}}
    lab.cast(ctxt, 'create_volume', **args)
    [cast] = lab.volume['b2'].wait_for(1)
    assert cast['args']['filter_properties']['retry'] == {
        'num_attempts': 2, 'backends': ['lab@b1#lab', 'lab@b2#lab'],
        'hosts': ['lab@b1#lab', 'lab@b2#lab']}
    assert lab.volume['b1'].casts == []


def test_a_plain_dict_volume_is_refused_in_cinder_mode(lab):
    volume_id = lab.db.add_volume(size=1)
    lab.cast({'request_id': 'req-plain'}, 'create_volume',
             volume={'id': volume_id, 'size': 1})
    [note] = lab.notifications.wait_for('scheduler.create_volume', 1)
    assert "Cinder's Volume object" in note['payload']['reason']
    assert lab.db.row('SELECT status, host FROM volumes WHERE id = :id',
                      id=volume_id) == {'status': 'creating', 'host': None}


def _placed_volume(lab, size: int = 1, **values) -> tuple[dict, str]:
    """A volume cinder-volume created on lab@b1#lab, as extend sees it."""
    volume_id = lab.db.add_volume(size=size, host='lab@b1#lab', **values)
    message = copy.deepcopy(_to_scheduler('extend_volume'))
    volume = _data(message['args']['volume'])
    volume.update(id=volume_id, size=size, host='lab@b1#lab', **values)
    return message, volume_id


def _reservation(lab, project_id: str, delta: int) -> str:
    lab.db.add('quota_usages', project_id=project_id, resource='gigabytes',
               in_use=1, reserved=delta)
    usage = lab.db.rows('SELECT max(id) FROM quota_usages')[0][0]
    reservation = str(uuid.uuid4())
    lab.db.add('reservations', uuid=reservation, usage_id=usage,
               project_id=project_id, resource='gigabytes', delta=delta)
    return reservation


def test_extend_is_cast_to_the_volume_service_when_the_pool_has_room(lab):
    message, volume_id = _placed_volume(
        lab, status='extending', previous_status='available')
    args = message['args']
    lab.cast(_context(message), 'extend_volume', volume=args['volume'],
             new_size=2, reservations=args['reservations'],
             request_spec=args['request_spec'], filter_properties=None)
    [cast] = lab.volume['b1'].wait_for(1)
    assert cast['method'] == 'extend_volume'
    assert (cast['args']['new_size'], cast['args']['reservations']) == (
        2, args['reservations'])
    assert lab.db.row('SELECT status FROM volumes WHERE id = :id',
                      id=volume_id)['status'] == 'extending'


def test_extend_without_room_restores_the_volume_as_cinder_does(lab):
    message, volume_id = _placed_volume(
        lab, status='extending', previous_status='available',
        project_id='project')
    reservation = _reservation(lab, 'project', 4999)
    args = message['args']
    ctxt = _context(message)
    lab.cast(ctxt, 'extend_volume', volume=args['volume'], new_size=5000,
             reservations=[reservation], request_spec=args['request_spec'],
             filter_properties=None)
    [note] = lab.notifications.wait_for('scheduler.extend_volume', 1)
    assert note['payload']['state'] == {'status': 'available',
                                        'previous_status': None}
    assert note['payload']['reason'].startswith(
        "NoValidBackend('Cannot place volume %s on lab@b1#lab.')"
        % volume_id)
    row = lab.db.row('SELECT status, previous_status FROM volumes '
                     'WHERE id = :id', id=volume_id)
    assert row == {'status': 'available', 'previous_status': None}
    assert lab.db.row('SELECT deleted FROM reservations WHERE uuid = :u',
                      u=reservation)['deleted'] is True
    assert lab.db.row("SELECT event_id FROM messages WHERE resource_uuid = "
                      ":id", id=volume_id)['event_id'] == \
        'VOLUME_VOLUME_007_003'
    assert lab.volume['b1'].casts == []


def _report_no_online_extend(lab, backend: str) -> None:
    """The backend's next report says it cannot extend attached volumes."""
    for message in _wire('startup'):
        body = copy.deepcopy(message['message'])
        args = body.get('args', {})
        if body.get('method') == 'update_service_capabilities' and \
                args.get('host') == 'lab@' + backend and \
                args.get('service_name') == 'volume':
            # NOTE: a pool's own capability, as drivers report it (Cinder
            # adds only a few backend-level values to a pool's).
            for pool in args['capabilities']['pools']:
                pool['online_extend_support'] = False
            args['timestamp'] = timeutils.utcnow().isoformat()
            lab.cast(_context(body), 'update_service_capabilities',
                     version='3.3', **args)
            return
    raise AssertionError('no report of %s in the wire samples' % backend)


@pytest.mark.parametrize('attach_status,handed_over', [
    ('attached', False), ('detached', True)])
def test_an_attached_volume_extends_only_where_the_backend_can_online(
        lab, attach_status, handed_over):
    _report_no_online_extend(lab, 'b1')
    fixtures.wait_until(lambda: [
        p for p in lab.call('get_pools')
        if p['capabilities'].get('online_extend_support') is False],
        what='the new report of b1')
    previous = 'in-use' if attach_status == 'attached' else 'available'
    message, volume_id = _placed_volume(
        lab, status='extending', previous_status=previous,
        attach_status=attach_status)
    args = message['args']
    args['request_spec']['volume_properties'][
        'attach_status'] = attach_status
    lab.cast(_context(message), 'extend_volume', volume=args['volume'],
             new_size=2, reservations=None,
             request_spec=args['request_spec'], filter_properties=None)
    if handed_over:
        [cast] = lab.volume['b1'].wait_for(1)
        assert cast['method'] == 'extend_volume'
        return
    [note] = lab.notifications.wait_for('scheduler.extend_volume', 1)
    assert note['payload']['state'] == {'status': 'in-use',
                                        'previous_status': None}
    assert lab.db.row('SELECT status FROM volumes WHERE id = :id',
                      id=volume_id)['status'] == 'in-use'
    assert lab.volume['b1'].casts == []


def _snapshot(lab, volume_id: str) -> tuple[dict, str]:
    snapshot_id = str(uuid.uuid4())
    lab.db.add('snapshots', id=snapshot_id, volume_id=volume_id,
               volume_type_id=lab.db.volume_type_id, status='creating',
               volume_size=1, use_quota=True, project_id='project')
    message = copy.deepcopy(_to_scheduler('create_snapshot'))
    args = message['args']
    _data(args['snapshot']).update(id=snapshot_id, volume_id=volume_id)
    _data(args['volume']).update(id=volume_id, host='lab@b1#lab')
    _data(args['request_spec'])['snapshot_id'] = snapshot_id
    args['backend'] = 'lab@b1#lab'
    return message, snapshot_id


def test_a_snapshot_is_cast_to_the_volumes_backend(lab):
    volume_id = lab.db.add_volume(size=1, host='lab@b1#lab',
                                  status='available')
    message, snapshot_id = _snapshot(lab, volume_id)
    lab.cast(_context(message), 'create_snapshot', **message['args'])
    [cast] = lab.volume['b1'].wait_for(1)
    assert cast['method'] == 'create_snapshot'
    assert set(cast['args']) == {'snapshot'}
    assert _data(cast['args']['snapshot'])['id'] == snapshot_id
    worker = lab.db.row("SELECT * FROM workers WHERE resource_id = :id",
                        id=snapshot_id)
    assert (worker['resource_type'], worker['status'],
            worker['service_id']) == ('Snapshot', 'creating', None)


def test_a_snapshot_the_backend_cannot_hold_ends_in_error(lab):
    volume_id = lab.db.add_volume(size=1, host='lab@b1#lab',
                                  status='available')
    message, snapshot_id = _snapshot(lab, volume_id)
    _data(_data(message['args']['request_spec'])['volume_properties'])[
        'size'] = 5000
    lab.cast(_context(message), 'create_snapshot', **message['args'])
    [note] = lab.notifications.wait_for('scheduler.create_snapshot', 1)
    assert note['payload']['snapshot_id'] == snapshot_id
    assert lab.db.row('SELECT status FROM snapshots WHERE id = :id',
                      id=snapshot_id)['status'] == 'error'
    assert lab.volume['b1'].casts == []


def _backup(lab, volume_id: str) -> tuple[dict, str]:
    backup_id = str(uuid.uuid4())
    lab.db.add('backups', id=backup_id, volume_id=volume_id,
               status='creating', size=1, project_id='project')
    message = copy.deepcopy(_to_scheduler('create_backup'))
    _data(message['args']['backup']).update(id=backup_id,
                                            volume_id=volume_id)
    return message, backup_id


def test_a_backup_goes_to_a_backup_service_of_the_volumes_zone(lab):
    volume_id = lab.db.add_volume(size=1, host='lab@b1#lab',
                                  status='backing-up',
                                  previous_status='available')
    message, backup_id = _backup(lab, volume_id)
    lab.cast(_context(message), 'create_backup', **message['args'])
    casts = lab.backup.wait_for(2)
    [cast] = [c for c in casts if c['method'] == 'create_backup']
    assert _data(cast['args']['backup'])['host'] == 'lab'
    assert lab.db.row('SELECT host FROM backups WHERE id = :id',
                      id=backup_id)['host'] == 'lab'


def test_a_backup_without_a_backup_service_fails_as_cinder_fails_it(
        cinder_db):
    lab = Lab(cinder_db)
    try:
        lab.report(backup=False)
        volume_id = lab.db.add_volume(size=1, host='lab@b1#lab',
                                      status='backing-up',
                                      previous_status='available')
        message, backup_id = _backup(lab, volume_id)
        lab.cast(_context(message), 'create_backup', **message['args'])
        fixtures.wait_until(lambda: lab.db.row(
            'SELECT status FROM backups WHERE id = :id',
            id=backup_id)['status'] == 'error', what='the backup in error')
        assert lab.db.row('SELECT fail_reason FROM backups WHERE id = :id',
                          id=backup_id)['fail_reason'] == \
            'Service not found for creating backup.'
        assert lab.db.row('SELECT status, previous_status FROM volumes '
                          'WHERE id = :id', id=volume_id) == {
                              'status': 'available',
                              'previous_status': 'backing-up'}
        assert lab.db.row("SELECT event_id FROM messages WHERE "
                          "resource_uuid = :id", id=backup_id)[
                              'event_id'] == 'VOLUME_VOLUME_BACKUP_013_024'
    finally:
        lab.stop()


def test_get_pools_lists_both_pools_in_cinders_shape(lab):
    reply = lab.call('get_pools', filters=None)
    assert [p['name'] for p in reply] == ['lab@b1#lab', 'lab@b2#lab']
    assert lab.call('get_pools', filters={'name': 'lab@b2#lab'}) == [
        reply[1]]


def test_placement_waits_for_the_first_report_after_start(cinder_db):
    lab = Lab(cinder_db, wait_time=600)
    try:
        volume_id = lab.db.add_volume(size=1)
        ctxt, args = _create_args(volume_id)
        lab.cast(ctxt, 'create_volume', **args)
        lab.call('get_pools')
        assert lab.db.row('SELECT host FROM volumes WHERE id = :id',
                          id=volume_id)['host'] is None
        lab.report()
        fixtures.wait_until(lambda: lab.db.row(
            'SELECT host FROM volumes WHERE id = :id',
            id=volume_id)['host'], what='the volume placed')
    finally:
        lab.stop()


def _volume_type(lab, name: str, **extra_specs) -> str:
    type_id = str(uuid.uuid4())
    lab.db.add('volume_types', id=type_id, name=name, is_public=True)
    for key, value in extra_specs.items():
        lab.db.add('volume_type_extra_specs', volume_type_id=type_id,
                   key=key, value=value)
    return type_id


def test_get_pools_keeps_the_pools_a_volume_type_fits(lab):
    type_id = _volume_type(lab, 'pair', lab_reschedule_pair='<is> True')
    _volume_type(lab, 'any')
    for name_or_id in ('pair', type_id):
        reply = lab.call('get_pools', filters={'volume_type': name_or_id})
        assert [p['name'] for p in reply] == ['lab@b1#lab'], name_or_id
    assert [p['name'] for p in lab.call(
        'get_pools', filters={'volume_type': 'any'})] == [
        'lab@b1#lab', 'lab@b2#lab']


def test_get_pools_with_an_unknown_or_deleted_type_is_not_found(lab):
    type_id = _volume_type(lab, 'gone')
    lab.db.execute('UPDATE volume_types SET deleted = true, '
                   'deleted_at = now() WHERE id = :id', id=type_id)
    for name_or_id in ('gone', type_id, 'never'):
        # NOTE: fake:// hands the endpoint's exception over as it is.
        with pytest.raises(Exception) as raised:
            lab.call('get_pools', filters={'volume_type': name_or_id})
        assert type(raised.value).__name__ == 'VolumeTypeNotFoundByName'
        assert name_or_id in str(raised.value)


def test_a_removed_services_row_is_made_again_by_the_heartbeat(lab):
    # NOTE: what ``cinder-manage service remove`` does (service.destroy:
    # a soft delete); Cinder's report_state then creates the row again.
    old = lab.db.row(SCHEDULER_ROW + ' AND NOT deleted')
    lab.db.execute('UPDATE services SET deleted = true, deleted_at = now() '
                   'WHERE id = :id', id=old['id'])
    lab.worker.report_state()
    new = lab.db.row(SCHEDULER_ROW + ' AND NOT deleted')
    assert new['id'] != old['id']
    assert (new['host'], new['topic'], new['rpc_current_version']) == (
        HOST, 'cinder-scheduler', '3.12')
    assert lab.worker.service_ref.id == new['id']
    lab.worker.report_state()
    assert lab.db.row('SELECT report_count FROM services WHERE id = :id',
                      id=new['id'])['report_count'] >= 1
    # The volumes placed next are the new row's (workers.service_id).
    volume_id = lab.db.add_volume(size=1)
    ctxt, args = _create_args(volume_id)
    lab.cast(ctxt, 'create_volume', **args)
    worker = fixtures.wait_until(lambda: (lambda r: r if r['service_id']
                                          else None)(lab.db.row(
        'SELECT * FROM workers WHERE resource_id = :id', id=volume_id)),
        what='the volume placed')
    assert worker['service_id'] == new['id']


def test_a_cast_failing_for_no_known_reason_is_rejected_after_3(lab,
                                                                caplog):
    # NOTE: a real error of no known kind: PostgreSQL refuses the update
    # of this one volume with a syntax error (psycopg2 ProgrammingError,
    # oslo.db's plain DBError), every time it is tried.
    bad = lab.db.add_volume(size=1)
    lab.db.execute(
        "CREATE FUNCTION sw_refuse() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'injected' USING ERRCODE = '42601'; END $$ "
        "LANGUAGE plpgsql")
    lab.db.execute(
        "CREATE TRIGGER sw_refuse BEFORE UPDATE ON volumes FOR EACH ROW "
        "WHEN (OLD.id = '%s') EXECUTE FUNCTION sw_refuse()" % bad)
    caplog.set_level('WARNING', logger='scheduler_worker')
    ctxt, args = _create_args(bad)
    lab.cast(ctxt, 'create_volume', **args)
    [note] = lab.notifications.wait_for('scheduler.create_volume', 1)
    assert note['priority'] == 'ERROR'
    requeued = [r for r in caplog.records
                if 'no known kind' in r.getMessage()]
    rejected = [r for r in caplog.records
                if r.getMessage().startswith('Rejecting message')]
    assert (len(requeued), len(rejected)) == (2, 1)
    assert 'DBError' in rejected[0].getMessage()
    # The queue moves on: the next volume is placed.
    good = lab.db.add_volume(size=1)
    ctxt, args = _create_args(good)
    lab.cast(ctxt, 'create_volume', **args)
    fixtures.wait_until(lambda: lab.db.row(
        'SELECT host FROM volumes WHERE id = :id', id=good)['host'],
        what='the next volume placed')
    assert [n['priority'] for n in lab.notifications.received
            if n['priority'] == 'ERROR'] == ['ERROR']
    assert lab.db.row('SELECT host FROM volumes WHERE id = :id',
                      id=bad)['host'] is None
