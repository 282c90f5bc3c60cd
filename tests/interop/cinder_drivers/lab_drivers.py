"""Volume drivers of the interop lab, loaded by the real cinder-volume.

They import Cinder only (this module runs in Cinder's venv, on
cinder-volume's PYTHONPATH), never scheduler_worker. Cinder's own fake
driver reports unlimited capacity and cannot be backed up; these report a
finite pool and keep each volume as a small file that cinder-backup reads
through os-brick's ``local`` connector:

* ``LabDriver``: one pool of ``lab_capacity_gb``; a volume of N GiB is a
  file of N KiB under ``lab_data_dir`` (so what the pool holds is what the
  files say, across restarts); snapshots, clones, extend, manage existing
  volumes and snapshots (files dropped in ``lab_data_dir/manageable/``),
  and migration to another lab backend by moving the file (its
  ``location_info`` names the directory).
  A volume whose name starts with ``lab-hang`` is never finished: its
  create drops ``creating-<id>`` in ``lab_data_dir`` (saying the driver is
  in the middle of it) and waits, so that a test can kill cinder-volume
  mid-create.
* ``FailingLabDriver``: the same pool, but every create fails, so that
  cinder-volume sends the volume back to the scheduler.
"""

import os
import shutil
import threading
import time

from cinder import exception
from cinder.volume import driver
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

KIB_PER_GIB = 1024
HANG_PREFIX = 'lab-hang'
# NOTE: long enough for any test to kill the service meanwhile, bounded
# so that a forgotten one does not hold a greenthread for ever.
HANG_SECONDS = 600

lab_opts = [
    cfg.IntOpt('lab_capacity_gb', default=100, min=1,
               help='Total capacity the lab pool reports, in GiB.'),
    cfg.StrOpt('lab_data_dir', required=True,
               help='Directory holding the files that stand for volumes.'),
    cfg.StrOpt('lab_pool_name', default='lab',
               help='Name of the one pool (host@backend#POOL).'),
    cfg.DictOpt('lab_capabilities', default={},
                help='Extra capabilities to report, key:value (strings; '
                     '"True"/"False" become booleans, for <is> specs).'),
]


def _capability(value: str):
    return {'True': True, 'False': False}.get(value, value)


class LabDriver(driver.VolumeDriver):
    """A finite pool of file-backed volumes."""

    VERSION = '1.0.0'
    # NOTE: no CI of its own, it is a test driver: keeps Cinder from
    # refusing to load it as "unsupported".
    SUPPORTED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(lab_opts)
        self._lock = threading.Lock()

    @staticmethod
    def get_driver_options():
        return lab_opts

    # Files

    @property
    def _dir(self) -> str:
        return self.configuration.lab_data_dir

    def _path(self, name: str) -> str:
        return os.path.join(self._dir, name)

    def _volume_path(self, volume) -> str:
        return self._path('volume-%s' % volume.id)

    def _snapshot_path(self, snapshot) -> str:
        return self._path('snapshot-%s' % snapshot.id)

    def _manageable_path(self, existing_ref: dict) -> str:
        name = existing_ref.get('source-name')
        if not name or os.sep in name or name.startswith('.'):
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason='source-name expected')
        path = os.path.join(self._dir, 'manageable', name)
        if not os.path.isfile(path):
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason='no such file')
        return path

    @staticmethod
    def _size_gb(path: str) -> int:
        return -(-os.path.getsize(path) // KIB_PER_GIB)

    def _allocated_gb(self) -> int:
        return sum(self._size_gb(self._path(name))
                   for name in os.listdir(self._dir)
                   if name.startswith('volume-'))

    def _claim(self, size_gb: int) -> None:
        free = self.configuration.lab_capacity_gb - self._allocated_gb()
        if size_gb > free:
            raise exception.VolumeBackendAPIException(
                data='lab pool: %d GiB asked, %d GiB free' % (size_gb, free))

    def _write(self, path: str, size_gb: int, source: str | None = None):
        with self._lock:
            self._claim(size_gb)
            if source:
                shutil.copyfile(source, path)
            with open(path, 'ab') as f:
                f.truncate(size_gb * KIB_PER_GIB)

    # Driver API

    def do_setup(self, context):
        os.makedirs(os.path.join(self._dir, 'manageable'), exist_ok=True)

    def check_for_setup_error(self):
        if not os.path.isdir(self._dir):
            raise exception.VolumeBackendAPIException(
                data='lab_data_dir %s is missing' % self._dir)

    def create_volume(self, volume):
        if (volume.display_name or '').startswith(HANG_PREFIX):
            self._hang(volume)
        self._write(self._volume_path(volume), volume.size)

    def _hang(self, volume) -> None:
        """Stay in the middle of this create (see the module's doc)."""
        marker = self._path('creating-%s' % volume.id)
        with open(marker, 'w'):
            pass
        LOG.warning('lab: hanging in the create of %s', volume.id)
        deadline = time.monotonic() + HANG_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.5)

    def create_volume_from_snapshot(self, volume, snapshot):
        self._write(self._volume_path(volume), volume.size,
                    source=self._snapshot_path(snapshot))

    def create_cloned_volume(self, volume, src_vref):
        self._write(self._volume_path(volume), volume.size,
                    source=self._volume_path(src_vref))

    def extend_volume(self, volume, new_size):
        with self._lock:
            self._claim(new_size - volume.size)
            with open(self._volume_path(volume), 'ab') as f:
                f.truncate(new_size * KIB_PER_GIB)

    def delete_volume(self, volume):
        _remove(self._volume_path(volume))

    def create_snapshot(self, snapshot):
        shutil.copyfile(self._volume_path(snapshot.volume),
                        self._snapshot_path(snapshot))

    def delete_snapshot(self, snapshot):
        _remove(self._snapshot_path(snapshot))

    def local_path(self, volume):
        return self._volume_path(volume)

    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        pass

    def remove_export(self, context, volume):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        pass

    def remove_export_snapshot(self, context, snapshot):
        pass

    def initialize_connection(self, volume, connector, **kwargs):
        # NOTE: os-brick's local connector hands the path to whoever
        # attaches (cinder-backup), which reads the file as a device.
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._volume_path(volume)}}

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._snapshot_path(snapshot)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    # Manage existing: a file in manageable/ becomes a volume or snapshot

    def manage_existing_get_size(self, volume, existing_ref):
        return self._size_gb(self._manageable_path(existing_ref))

    def manage_existing(self, volume, existing_ref):
        source = self._manageable_path(existing_ref)
        with self._lock:
            self._claim(self._size_gb(source))
            os.rename(source, self._volume_path(volume))

    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        return self._size_gb(self._manageable_path(existing_ref))

    def manage_existing_snapshot(self, snapshot, existing_ref):
        os.rename(self._manageable_path(existing_ref),
                  self._snapshot_path(snapshot))

    def unmanage(self, volume):
        os.rename(self._volume_path(volume),
                  os.path.join(self._dir, 'manageable', volume.id))

    def unmanage_snapshot(self, snapshot):
        os.rename(self._snapshot_path(snapshot),
                  os.path.join(self._dir, 'manageable', snapshot.id))

    def retype(self, context, volume, new_type, diff, host):
        """Any type is served in place: the manager asks only when the
        volume stays on this backend (without it, a retype that stays
        fails with "requires migration but is not allowed")."""
        return True, None

    def migrate_volume(self, context, volume, host):
        """Move the file to another lab backend; (moved, model update)."""
        location = host['capabilities'].get('location_info') or ''
        kind, _, directory = location.partition(':')
        if kind != 'LabDriver' or not os.path.isdir(directory):
            return False, None
        free = host['capabilities'].get('free_capacity_gb', 0)
        if free != 'infinite' and float(free) < volume.size:
            return False, None
        shutil.move(self._volume_path(volume),
                    os.path.join(directory, 'volume-%s' % volume.id))
        return True, None

    # Stats

    def get_pool(self, volume):
        return self.configuration.lab_pool_name

    def _update_volume_stats(self):
        total = self.configuration.lab_capacity_gb
        allocated = self._allocated_gb()
        pool = {'pool_name': self.configuration.lab_pool_name,
                'total_capacity_gb': total,
                'free_capacity_gb': total - allocated,
                'provisioned_capacity_gb': allocated,
                'reserved_percentage': 0,
                'max_over_subscription_ratio': 1.0,
                'thin_provisioning_support': False,
                'thick_provisioning_support': True,
                'QoS_support': False,
                'multiattach': False,
                'location_info': 'LabDriver:%s' % self._dir,
                'filter_function': self.get_filter_function(),
                'goodness_function': self.get_goodness_function()}
        pool.update({key: _capability(value) for key, value in
                     self.configuration.lab_capabilities.items()})
        self._stats = {
            'volume_backend_name': (
                self.configuration.safe_get('volume_backend_name') or
                'lab'),
            'vendor_name': 'scheduler-worker interop lab',
            'driver_version': self.VERSION,
            'storage_protocol': 'local',
            'pools': [pool]}


class FailingLabDriver(LabDriver):
    """Every create fails: cinder-volume sends the volume back."""

    def _write(self, path: str, size_gb: int, source: str | None = None):
        LOG.warning('lab: refusing to create %s (FailingLabDriver)', path)
        raise exception.VolumeBackendAPIException(
            data='FailingLabDriver fails every create')


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
