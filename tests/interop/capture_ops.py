"""The REST operations tests/interop/capture.py records, and the DB facts.

Each operation is what a user or operator does, waited until Cinder is
done with it; they run in order on one lab and share ``State``.
"""

import dataclasses
import json
import os
import subprocess
import threading
import time
import typing

from tests.interop import lab as lab_module


@dataclasses.dataclass
class Operation:
    """``prepare`` runs before the capture window, ``run`` inside it."""

    name: str
    doc: str
    run: typing.Callable
    prepare: typing.Callable = lambda state: None


class RowWatcher(threading.Thread):
    """Each distinct result of a query over time (polled every 10 ms)."""

    def __init__(self, lab, sql: str, **params) -> None:
        super().__init__(daemon=True)
        self.lab, self.sql, self.params = lab, sql, params
        self.began = time.time()
        self.versions: list[dict] = []
        self.done = threading.Event()

    def run(self) -> None:
        last = None
        while not self.done.is_set():
            rows = json.loads(json.dumps(
                self.lab.db.rows(self.sql, **self.params), default=str))
            if rows != last:
                self.versions.append({'t': round(time.time() - self.began,
                                                 3), 'rows': rows})
                last = rows
            time.sleep(0.01)

    def stop(self) -> list[dict]:
        self.done.set()
        self.join(10)
        return self.versions


class State:
    """What the operations made, for the next ones and the DB facts."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self.client = lab.client
        self.volume: dict = {}
        self.snapshot: dict = {}
        self.too_large: dict = {}
        self.create_rows: dict = {}
        self.retyped: dict = {}
        self.migrated: dict = {}
        self.group: dict = {}
        self.group_types: list[dict] = []

    def backend_of(self, volume: dict) -> str:
        host = self.client.show_volume(volume['id'])['os-vol-host-attr:host']
        return host.split('@')[1].split('#')[0]

    def other_backend(self, volume: dict) -> str:
        return 'b2' if self.backend_of(volume) == 'b1' else 'b1'

    def manageable(self, backend: str, name: str, size_gb: int) -> None:
        path = os.path.join(self.lab.tmp_path, 'volumes', backend,
                            'manageable', name)
        with open(path, 'wb') as f:
            f.truncate(size_gb * 1024)


def _create_plain(state: State) -> None:
    lab, name = state.lab, 'capture-plain'
    volumes = RowWatcher(lab, 'SELECT * FROM volumes WHERE display_name = '
                         ':name', name=name)
    workers = RowWatcher(lab, 'SELECT * FROM workers ORDER BY id')
    volumes.start()
    workers.start()
    volume = state.client.create_volume(1, name=name)
    state.volume = state.client.wait_volume(volume['id'])
    time.sleep(1)  # NOTE: the watchers see the rows after the last write
    state.create_rows = {'volume': volumes.stop(), 'workers': workers.stop()}


def _extend(state: State) -> None:
    state.client.extend(state.volume['id'], 2)
    state.client.wait_for(
        lambda: state.client.show_volume(state.volume['id']),
        lambda v: v['status'] != 'extending', 60, 'extend')


def _snapshot(state: State) -> None:
    snapshot = state.client.create_snapshot(state.volume['id'], name='snap')
    state.snapshot = state.client.wait_snapshot(snapshot['id'])


def _from_snapshot(state: State) -> None:
    state.client.wait_volume(state.client.create_volume(
        2, snapshot_id=state.snapshot['id'])['id'])


def _from_volume(state: State) -> None:
    state.client.wait_volume(state.client.create_volume(
        2, source_volid=state.volume['id'])['id'])


def _backup(state: State) -> None:
    state.client.wait_backup(state.client.create_backup(
        state.volume['id'])['id'])


def _fresh_volume(state: State, name: str) -> dict:
    """A volume of the default type without snapshots (which a generic
    migration refuses)."""
    return state.client.wait_volume(state.client.create_volume(
        1, name=name)['id'])


def _wait_moved(state: State, volume: dict, what: str) -> None:
    state.client.wait_for(
        lambda: state.client.show_volume(volume['id']),
        lambda v: v['status'] in ('available', 'error') and
        v['migration_status'] in (None, 'success', 'error'), 120, what)


def _retype(state: State, backend: str, policy: str) -> None:
    specs = {'volume_backend_name': 'lab', 'lab_reschedule_pair':
             '<is> %s' % (backend == 'b1')}
    name = 'on-%s-%s' % (backend, policy)
    state.client.create_type(name, specs)
    state.client.retype(state.retyped['id'], name, policy)
    _wait_moved(state, state.retyped, 'retype')


def _prepare_retype(state: State) -> None:
    state.retyped = _fresh_volume(state, 'capture-retype')


def _retype_stay(state: State) -> None:
    _retype(state, state.backend_of(state.retyped), 'never')


def _retype_migrate(state: State) -> None:
    _retype(state, state.other_backend(state.retyped), 'on-demand')


def _prepare_migrate(state: State) -> None:
    state.migrated = _fresh_volume(state, 'capture-migrate')


def _migrate(state: State) -> None:
    target = state.lab.pools[state.other_backend(state.migrated)]
    state.client.migrate(state.migrated['id'], target)
    state.client.wait_for(
        lambda: state.client.show_volume(state.migrated['id']),
        lambda v: v['migration_status'] in ('success', 'error'), 120,
        'migration')


def _manage_volume(state: State) -> None:
    state.manageable('b1', 'capture-managed', 3)
    volume = state.client.manage_volume(state.lab.pools['b1'],
                                        'capture-managed', name='managed')
    state.client.wait_volume(volume['id'])


def _manage_snapshot(state: State) -> None:
    backend = state.backend_of(state.volume)
    state.manageable(backend, 'capture-managed-snap', 2)
    snapshot = state.client.manage_snapshot(
        state.volume['id'], 'capture-managed-snap', name='managed-snap')
    state.client.wait_snapshot(snapshot['id'])


def _group_create(state: State) -> None:
    client = state.client
    group_type = client.create_group_type('capture-group-type')
    types = [client.create_type('group-a', {'volume_backend_name': 'lab'}),
             client.create_type('group-b', {'lab_reschedule_pair':
                                            '<is> True'})]
    group = client.create_group(group_type['id'], [t['id'] for t in types])
    state.group = client.wait_for(
        lambda: client.show_group(group['id']),
        lambda g: g['status'] in ('available', 'error'), 60, 'group')
    state.group_types = types


def _group_from_snapshot(state: State) -> None:
    client = state.client
    volume = client.create_volume(1, group_id=state.group['id'],
                                  volume_type=state.group_types[0]['id'])
    client.wait_volume(volume['id'])
    snapshot = client.request('POST', '/group_snapshots', {
        'group_snapshot': {'group_id': state.group['id']}})[
            'group_snapshot']
    client.wait_for(
        lambda: client.request('GET', '/group_snapshots/%s' %
                               snapshot['id'])['group_snapshot'],
        lambda s: s['status'] in ('available', 'error'), 60,
        'group snapshot')
    group = client.request('POST', '/groups/action', {
        'create-from-src': {'group_snapshot_id': snapshot['id']}})['group']
    client.wait_for(lambda: client.show_group(group['id']),
                    lambda g: g['status'] in ('available', 'error'), 60,
                    'group from group snapshot')


def _too_large(state: State) -> None:
    volume = state.client.create_volume(5000, name='capture-too-large')
    state.too_large = state.client.wait_volume(volume['id'])


def _reschedule(state: State) -> None:
    state.client.wait_volume(state.client.create_volume(
        1, name='capture-reschedule',
        volume_type=lab_module.RESCHEDULE_TYPE)['id'])


def operations(state: State) -> list[Operation]:
    c = state.client
    return [
        Operation('create_volume', 'POST /volumes (1 GiB, default type)',
                  _create_plain),
        Operation('extend_volume', 'os-extend to 2 GiB', _extend),
        Operation('create_snapshot', 'POST /snapshots', _snapshot),
        Operation('create_volume_from_snapshot', 'snapshot_id',
                  _from_snapshot),
        Operation('create_volume_from_volume', 'source_volid', _from_volume),
        Operation('create_backup', 'POST /backups (POSIX driver)', _backup),
        Operation('retype_stay', 'os-retype of a new volume to a type its '
                  'backend matches (policy never)', _retype_stay,
                  _prepare_retype),
        Operation('retype_migrate', 'os-retype of that volume to a type only '
                  'the other lab backend matches (policy on-demand)',
                  _retype_migrate),
        Operation('migrate_volume', 'os-migrate_volume of a new volume to '
                  'the other backend', _migrate, _prepare_migrate),
        Operation('manage_existing', 'POST /manageable_volumes',
                  _manage_volume),
        Operation('manage_existing_snapshot', 'POST /manageable_snapshots',
                  _manage_snapshot),
        Operation('create_group', 'POST /groups with two volume types',
                  _group_create),
        Operation('create_group_from_group_snapshot', 'volume in the group, '
                  'group snapshot, groups/action create-from-src',
                  _group_from_snapshot),
        Operation('workers_cleanup', 'POST /workers/cleanup {}',
                  lambda s: c.workers_cleanup()),
        Operation('get_log_levels', 'PUT /os-services/get-log (all)',
                  lambda s: c.get_log_levels()),
        Operation('set_log_levels', 'PUT /os-services/set-log DEBUG for '
                  'cinder.scheduler on cinder-scheduler',
                  lambda s: c.set_log_levels('DEBUG', 'cinder-scheduler',
                                             prefix='cinder.scheduler')),
        Operation('get_pools', 'GET scheduler-stats/get_pools?detail=True',
                  lambda s: c.get_pools()),
        Operation('os_services', 'GET /os-services at 3.71 (asks the '
                  'scheduler for get_pools)', lambda s: c.services()),
        Operation('no_valid_backend', 'POST /volumes larger than any pool',
                  _too_large),
        Operation('reschedule', 'POST /volumes of a type whose best backend '
                  'fails every create', _reschedule),
    ]


def db_facts(lab, state: State) -> dict:
    version = subprocess.run(
        [lab.bin('cinder-manage'), '--config-file', lab.cinder_conf, 'db',
         'version'], capture_output=True, text=True, env=lab.environment(),
        timeout=120)
    return json.loads(json.dumps({
        'alembic_version_table': lab.db.alembic_version(),
        'cinder_manage_db_version': version.stdout.strip(),
        'services': lab.db.services(),
        'no_valid_backend_messages': lab.db.messages(
            state.too_large.get('id')),
        'create_volume_rows_over_time': state.create_rows,
        'columns': {table: lab.db.rows(
            'SELECT column_name, data_type, is_nullable FROM '
            'information_schema.columns WHERE table_name = :t '
            'ORDER BY ordinal_position', t=table)
            for table in ('volumes', 'services', 'messages', 'workers')},
    }, default=str))
