"""A stock Cinder cloud driven through its REST API, whatever schedules it.

Every test runs once per scheduler slot (conftest.SCHEDULERS): the same
body shows what Cinder's own scheduler does and, later, what ours does.
"""

import datetime
import os
import time

from tests import fixtures
from tests.interop import cinderconf
from tests.interop import lab as lab_module
from tests.interop import rest

DEFAULT_POOLS = {'lab@b1#lab', 'lab@b2#lab'}


def _captured(name: str) -> dict:
    """What Cinder 29's own services did (tests/wire/cinder29/)."""
    return fixtures.wire_sample(os.path.join('cinder29', name + '.json'))


def _ovo_header(primitive: dict) -> dict:
    """An object primitive without its data; changes as a set (their
    order follows no rule)."""
    header = {k: v for k, v in primitive.items()
              if k != 'versioned_object.data'}
    header['versioned_object.changes'] = sorted(
        header.get('versioned_object.changes', []))
    return header


def _captured_hand_off() -> dict:
    """The create_volume cast cinder-scheduler sent to cinder-volume."""
    return next(m for m in _captured('create_volume')['messages']
                if m['direction'].startswith('topic:cinder-volume.'))


def _instant(timestamp: str) -> datetime.datetime:
    """A context timestamp as an instant: Cinder forwards it with a zone
    ("+00:00") that cinder-api's cast has not."""
    parsed = datetime.datetime.fromisoformat(timestamp)
    return parsed if parsed.tzinfo else parsed.replace(
        tzinfo=datetime.timezone.utc)


def _context(message: dict) -> dict:
    context = {k: v for k, v in message.items() if k.startswith('_context_')}
    context['_context_timestamp'] = _instant(context['_context_timestamp'])
    return context


def _forwarded(lab, method: str, since: float, arg: str,
               object_id: str) -> tuple[dict, dict]:
    """The ``method`` cast cinder-api sent the scheduler about ``arg``'s
    ``object_id``, and the one the scheduler sent on to a service."""
    def casts():
        found = [r for r in lab.tap.matching(method, since=since)
                 if r['message']['args'][arg]['versioned_object.data'][
                     'id'] == object_id]
        received = [r for r in found if r['routing_key'] == 'cinder-scheduler']
        sent = [r for r in found if r['routing_key'] != 'cinder-scheduler']
        return (received, sent) if received and sent else None
    received, sent = rest.CinderClient.wait_for(
        casts, bool, 30, '%s to the scheduler and on' % method)
    assert (len(received), len(sent)) == (1, 1), (received, sent)
    return received[0], sent[0]


def _assert_cast_as_cinder_29(operation: str, record: dict, routing_key: str,
                              received: dict) -> dict:
    """``record`` went where and as Cinder's scheduler sent it in the
    capture of ``operation``, with the caller's context; its args."""
    captured = next(m for m in _captured(operation)['messages']
                    if m['direction'].startswith('topic:') and
                    m['routing_key'] != 'cinder-scheduler')
    message, expected = record['message'], captured['message']
    assert (record['exchange'], record['routing_key']) == (
        captured['exchange'], routing_key)
    assert (message['method'], message['version']) == (
        expected['method'], expected['version'])
    assert sorted(message['args']) == sorted(expected['args'])
    return message['args']


# NOTE: our worker's context (scheduler_worker/context.py) sends, beside
# Cinder's 28 keys, the long forms of oslo.context's names. Forwarding a
# cast of cinder-api they are None, and Cinder's RequestContext.from_dict
# never reads them. A known deviation; any other key or value fails.
OUR_EXTRA_CONTEXT = frozenset('_context_' + key for key in (
    'user_domain_id', 'project_domain_id', 'user_name', 'domain_name',
    'user_domain_name', 'project_domain_name'))


def _assert_same_context(sent: dict, received: dict) -> None:
    """The caller's context travels on as cinder-api sent it: its keys,
    its values (see OUR_EXTRA_CONTEXT)."""
    sent, received = _context(sent['message']), _context(received['message'])
    assert sorted(set(received) - set(sent)) == []
    extra = {k: v for k, v in sent.items() if k not in received}
    assert set(extra) <= OUR_EXTRA_CONTEXT, sorted(extra)
    assert set(extra.values()) <= {None}, extra
    assert {k: sent[k] for k in received} == received


def _lab_volume(lab, **fields) -> dict:
    volume = lab.client.create_volume(**fields)
    return lab.client.wait_volume(volume['id'])


def test_fifty_volumes_become_available_with_host_zone_and_time(lab):
    ids = [lab.client.create_volume(1, name='fifty-%02d' % i)['id']
           for i in range(50)]

    volumes = lab.client.wait_volumes(ids, timeout=180)

    assert sorted({v['status'] for v in volumes.values()}) == ['available']
    rows = lab.db.volumes(ids)
    assert len(rows) == 50
    assert {row['host'] for row in rows.values()} <= DEFAULT_POOLS
    assert all(row['scheduled_at'] is not None for row in rows.values())
    assert {row['availability_zone'] for row in rows.values()} == {'nova'}
    # Each create's workers row is gone: claimed by the scheduler, then by
    # the volume service, which deletes it once the volume is available.
    assert [w for w in lab.db.workers() if w['resource_id'] in ids] == []


def test_get_pools_detail_lists_every_pool_with_its_capacity(lab):
    pools = {pool['name']: pool['capabilities']
             for pool in lab.client.get_pools(detail=True)}

    assert set(pools) == set(lab.pools.values())
    for backend, name in lab.pools.items():
        total = cinderconf.BACKENDS[backend]['lab_capacity_gb']
        capabilities = pools[name]
        assert capabilities['total_capacity_gb'] == total
        assert 0 <= capabilities['free_capacity_gb'] <= total
        assert capabilities['volume_backend_name'] == \
            cinderconf.BACKENDS[backend]['volume_backend_name']
        assert capabilities['timestamp']


def test_get_pools_without_detail_lists_names_only(lab):
    pools = lab.client.get_pools(detail=False)

    assert sorted(pools, key=lambda p: p['name']) == [
        {'name': name} for name in sorted(lab.pools.values())]


def test_extend_grows_a_volume_on_its_pool(lab):
    volume = _lab_volume(lab, size=1, name='extend-me')

    lab.client.extend(volume['id'], 3)
    extended = lab.client.wait_volume(volume['id'],
                                      statuses={'available', 'error',
                                                'error_extending'})

    assert (extended['status'], extended['size']) == ('available', 3)
    assert extended['os-vol-host-attr:host'] == \
        volume['os-vol-host-attr:host']


def test_extend_is_cast_to_the_volumes_backend_as_cinder_29_casts_it(lab):
    volume = _lab_volume(lab, size=1, name='extend-cast')
    since = time.time()

    lab.client.extend(volume['id'], 2)
    received, sent = _forwarded(lab, 'extend_volume', since, 'volume',
                                volume['id'])

    backend = volume['os-vol-host-attr:host'].split('#')[0]
    args = _assert_cast_as_cinder_29(
        'extend_volume', sent, 'cinder-volume.%s.%s' % (
            backend, cinderconf.HOST), received)
    asked = received['message']['args']
    assert args == {'volume': asked['volume'], 'new_size': 2,
                    'reservations': asked['reservations']}
    assert lab.client.wait_volume(volume['id'])['size'] == 2
    _assert_same_context(sent, received)


def test_snapshot_is_cast_to_the_volumes_backend_as_cinder_29_casts_it(lab):
    volume = _lab_volume(lab, size=1, name='snapshot-cast')
    since = time.time()

    snapshot = lab.client.create_snapshot(volume['id'], name='snap-cast')
    received, sent = _forwarded(lab, 'create_snapshot', since, 'snapshot',
                                snapshot['id'])

    backend = volume['os-vol-host-attr:host'].split('#')[0]
    args = _assert_cast_as_cinder_29(
        'create_snapshot', sent, 'cinder-volume.%s.%s' % (
            backend, cinderconf.HOST), received)
    assert args == {'snapshot': received['message']['args']['snapshot']}
    assert lab.client.wait_snapshot(snapshot['id'])['status'] == 'available'
    _assert_same_context(sent, received)


def test_snapshot_of_a_volume_becomes_available(lab):
    volume = _lab_volume(lab, size=2, name='snap-source')

    snapshot = lab.client.create_snapshot(volume['id'], name='snap')
    snapshot = lab.client.wait_snapshot(snapshot['id'])

    assert (snapshot['status'], snapshot['size']) == ('available', 2)


def test_volume_from_snapshot_and_clone_become_available(lab):
    source = _lab_volume(lab, size=1, name='clone-source')
    snapshot = lab.client.wait_snapshot(
        lab.client.create_snapshot(source['id'])['id'])

    from_snapshot = lab.client.create_volume(1, snapshot_id=snapshot['id'])
    clone = lab.client.create_volume(1, source_volid=source['id'])

    done = lab.client.wait_volumes([from_snapshot['id'], clone['id']])
    assert {v['status'] for v in done.values()} == {'available'}
    # NOTE: Cinder places both on the source's backend.
    assert {v['os-vol-host-attr:host'] for v in done.values()} == {
        source['os-vol-host-attr:host']}


def test_backup_of_a_lab_volume_becomes_available(lab):
    volume = _lab_volume(lab, size=1, name='backup-source')

    backup = lab.client.create_backup(volume['id'], name='backup')
    backup = lab.client.wait_backup(backup['id'])

    assert (backup['status'], backup['size']) == ('available', 1)
    assert lab.client.show_volume(volume['id'])['status'] == 'available'
    backup_files = [name for _, _, names in os.walk(
        lab.tmp_path / 'backups') for name in names]
    assert backup_files


def test_backup_is_cast_to_a_backup_service_as_cinder_29_casts_it(lab):
    volume = _lab_volume(lab, size=1, name='backup-cast')
    since = time.time()

    backup = lab.client.create_backup(volume['id'], name='backup-cast')
    received, sent = _forwarded(lab, 'create_backup', since, 'backup',
                                backup['id'])

    args = _assert_cast_as_cinder_29(
        'create_backup', sent, 'cinder-backup.%s' % cinderconf.HOST,
        received)
    # The backup as cinder-api sent it, on the chosen backup host.
    asked = received['message']['args']['backup']
    assert args == {'backup': dict(asked, **{
        'versioned_object.data': dict(asked['versioned_object.data'],
                                      host=cinderconf.HOST)})}
    assert lab.client.wait_backup(backup['id'])['status'] == 'available'
    _assert_same_context(sent, received)


def test_volume_larger_than_every_pool_ends_in_error_with_a_message(lab):
    largest = max(b['lab_capacity_gb'] for b in cinderconf.BACKENDS.values())
    volume = lab.client.create_volume(largest + 1, name='too-large')

    volume = lab.client.wait_volume(volume['id'])

    assert volume['status'] == 'error'
    assert lab.db.volumes([volume['id']])[volume['id']]['host'] is None
    messages = [m for m in lab.client.messages()
                if m['resource_uuid'] == volume['id']]
    assert [(m['resource_type'], m['message_level'], m['event_id'])
            for m in messages] == [
        ('VOLUME', 'ERROR', 'VOLUME_VOLUME_001_003')]
    assert messages[0]['user_message'] == (
        'schedule allocate volume:Could not find any available weighted '
        'backend.')


def test_volume_sent_back_by_a_failing_backend_ends_on_the_other(lab):
    since = time.time()
    volume = lab.client.create_volume(
        1, name='rescheduled', volume_type=lab_module.RESCHEDULE_TYPE)

    volume = lab.client.wait_volume(volume['id'])

    assert (volume['status'], volume['os-vol-host-attr:host']) == (
        'available', lab.pools['b1'])
    refused = 'refusing to create %s' % os.path.join(
        lab.tmp_path, 'volumes', 'b3', 'volume-%s' % volume['id'])
    assert refused in lab.processes['cinder-volume'].log()
    # Handed to b3, sent back, handed to b1 with both attempts listed, as
    # Cinder 29 does (tests/wire/cinder29/reschedule.json).
    def hand_offs():
        return [(r['routing_key'], {
            k: v for k, v in r['message']['args']['filter_properties'][
                'retry'].items() if k != 'exc'})
            for r in lab.tap.matching('create_volume', since=since)
            if r['routing_key'].startswith('cinder-volume.') and
            r['message']['args']['volume']['versioned_object.data']['id'] ==
            volume['id']]
    retries = rest.CinderClient.wait_for(
        hand_offs, lambda found: len(found) >= 2, 10, 'two hand-offs')
    b1, b3 = lab.pools['b1'], lab.pools['b3']
    assert retries == [
        ('cinder-volume.lab@b3.lab',
         {'num_attempts': 1, 'backends': [b3], 'hosts': [b3]}),
        ('cinder-volume.lab@b1.lab',
         {'num_attempts': 2, 'backends': [b3, b1], 'hosts': [b3, b1]})]


def test_scheduler_is_listed_up_then_down_once_it_stops(lab):
    def scheduler_states(microversion=rest.BEFORE_BACKEND_STATE):
        return [(s['host'], s['state'], s['status']) for s in
                lab.client.services('cinder-scheduler', microversion)]

    # NOTE: at 3.49 and later, listing services asks the scheduler for
    # its pools first; answered only by a live scheduler.
    assert scheduler_states(rest.MICROVERSION) == [
        (cinderconf.HOST, 'up', 'enabled')]
    lab.scheduler.stop()
    try:
        down = rest.CinderClient.wait_for(
            scheduler_states, lambda states: states and all(
                state == 'down' for _, state, _ in states),
            timeout=cinderconf.SERVICE_DOWN_TIME * 4,
            what='cinder-scheduler listed down')
        assert down == [(cinderconf.HOST, 'down', 'enabled')]
    finally:
        lab.start_scheduler()
        lab.wait_scheduler_ready()


def test_volume_is_handed_to_its_backend_as_cinder_29_hands_it(lab):
    since = time.time()
    volume = _lab_volume(lab, size=1, name='hand-off')
    pool = volume['os-vol-host-attr:host']

    def hand_offs():
        return [r for r in lab.tap.matching('create_volume', since=since)
                if r['routing_key'].startswith('cinder-volume.') and
                r['message']['args']['volume']['versioned_object.data'][
                    'id'] == volume['id']]
    [record] = rest.CinderClient.wait_for(hand_offs, bool, 30, 'hand-off')

    captured = _captured_hand_off()
    message, expected = record['message'], captured['message']
    backend = pool.split('#')[0]
    assert record['routing_key'] == 'cinder-volume.%s.%s' % (
        backend, backend.split('@')[0])
    assert (record['exchange'], message['version']) == (
        captured['exchange'], expected['version'])
    assert sorted(message['args']) == sorted(expected['args'])
    assert message['args']['allow_reschedule'] is True
    filter_properties = message['args']['filter_properties']
    assert sorted(filter_properties) == sorted(
        expected['args']['filter_properties'])
    assert filter_properties['retry'] == {
        'num_attempts': 1, 'backends': [pool], 'hosts': [pool]}
    for arg in ('volume', 'request_spec'):
        assert _ovo_header(message['args'][arg]) == _ovo_header(
            expected['args'][arg])
    # The caller's context travels on to the volume service.
    assert (message['_context_user_id'], message['_context_project_id']) == (
        lab.client.user_id, lab.client.project_id)
    [received] = [r for r in lab.tap.matching('create_volume', since=since)
                  if r['routing_key'] == 'cinder-scheduler' and
                  r['message']['args']['volume']['versioned_object.data'][
                      'id'] == volume['id']]
    _assert_same_context(record, received)


def test_scheduler_services_row_carries_cinder_29_versions(lab):
    captured = next(row for row in _captured('db_facts')['services']
                    if row['binary'] == 'cinder-scheduler')
    columns = ('binary', 'topic', 'host', 'availability_zone',
               'rpc_current_version', 'object_current_version', 'disabled',
               'cluster_name', 'frozen', 'replication_status')

    rows = lab.db.services('cinder-scheduler')

    assert [{c: row[c] for c in columns} for row in rows] == [
        {c: captured[c] for c in columns}]
    assert rows[0]['uuid'] and rows[0]['report_count'] > 0
