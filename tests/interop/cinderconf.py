"""The lab's cinder.conf: written once, the same whatever schedules.

Also what Cinder needs to run its root helpers here (a rootwrap.conf over
the venv's filters, and a pass-through ``sudo``).
"""

import os

from tests import fixtures

HOST = 'lab'
REPORT_INTERVAL = 2
# NOTE: low so that a stopped scheduler is listed down soon, not lower: on
# a loaded machine heartbeats came up to 8.5 s late, and a scheduler that
# sees its volume services down refuses volumes (NoValidBackend).
SERVICE_DOWN_TIME = 20
# NOTE: b1 and b2 hold the default type's volumes (volume_backend_name
# "lab"). b3 fails every create and has the most room, so that a volume of
# the "lab-reschedule" type (b1 and b3 match it) goes there first and is
# sent back: it can only end on b1.
BACKENDS = {
    'b1': {'volume_driver': 'lab_drivers.LabDriver',
           'volume_backend_name': 'lab', 'lab_capacity_gb': 1000,
           'lab_capabilities': 'lab_reschedule_pair:True'},
    'b2': {'volume_driver': 'lab_drivers.LabDriver',
           'volume_backend_name': 'lab', 'lab_capacity_gb': 1000,
           'lab_capabilities': 'lab_reschedule_pair:False'},
    'b3': {'volume_driver': 'lab_drivers.FailingLabDriver',
           'volume_backend_name': 'flaky', 'lab_capacity_gb': 1500,
           'lab_capabilities': 'lab_reschedule_pair:True'},
}


def write(tmp_path, venv: str, port: int, transport_url: str,
          db_url: str) -> str:
    """Write the lab's cinder.conf (and its root helpers); its path."""
    state = tmp_path / 'state'
    for path in (state / 'locks', state / 'coord', tmp_path / 'backups'):
        os.makedirs(path, exist_ok=True)
    sections = _sections(tmp_path, venv, port, transport_url, db_url)
    for name, options in BACKENDS.items():
        sections[name] = dict(options, lab_data_dir=(
            tmp_path / 'volumes' / name))
    return fixtures.write_config(tmp_path / 'cinder.conf', sections)


def _sections(tmp_path, venv: str, port: int, transport_url: str,
              db_url: str) -> dict:
    state = tmp_path / 'state'
    etc = os.path.join(venv, 'etc', 'cinder')
    return {'DEFAULT': {
        'host': HOST, 'my_ip': '127.0.0.1', 'auth_strategy': 'noauth',
        'osapi_volume_listen': '127.0.0.1',
        'osapi_volume_listen_port': port,
        'osapi_volume_workers': 1,
        'api_paste_config': os.path.join(etc, 'api-paste.ini'),
        'resource_query_filters_file': os.path.join(
            etc, 'resource_filters.json'),
        'rootwrap_config': _write_root_helpers(tmp_path, venv),
        'state_path': state, 'transport_url': transport_url,
        'enabled_backends': ','.join(BACKENDS),
        # NOTE: volume services report soon after start, and up/down
        # (computed by cinder-api) turns within seconds.
        'periodic_interval': 5, 'periodic_fuzzy_delay': 0,
        'report_interval': REPORT_INTERVAL,
        'service_down_time': SERVICE_DOWN_TIME,
        'backup_driver': 'cinder.backup.drivers.posix.PosixBackupDriver',
        'backup_posix_path': tmp_path / 'backups',
        # NOTE: without it Cinder reschedules a volume to the backend
        # that just failed it (the best weighed), three times, then
        # gives up: its default filters ignore filter_properties retry.
        'scheduler_default_filters': ','.join((
            'AvailabilityZoneFilter', 'CapacityFilter',
            'CapabilitiesFilter', 'IgnoreAttemptedHostsFilter'))},
        # NOTE: at most 5 connections per Cinder process. The
        # machine's PostgreSQL (max_connections 100) is shared; with
        # oslo.db's defaults (5 + 50 overflow) a restarted scheduler
        # taking a backlog of casts exhausted it ("too many clients").
        # NOTE: and a minute and a half to wait for one (SQLAlchemy's 30 s
        # by default): a restarted scheduler hands its backlog over at
        # once, and cinder-volume drops a cast whose handler timed out
        # waiting for a connection of its small pool ("QueuePool limit of
        # size 2 overflow 3 reached"): 70 of a burst's 200 were lost so.
        'database': {'connection': db_url, 'max_pool_size': 2,
                     'max_overflow': 3, 'pool_timeout': 90},
        'oslo_concurrency': {'lock_path': state / 'locks'},
        'coordination': {'backend_url': 'file://%s' % (state / 'coord')},
        'oslo_messaging_notifications': {'driver': 'messagingv2'}}


def _write_root_helpers(tmp_path, venv: str) -> str:
    """A rootwrap.conf reading the venv's filters, and a ``sudo``.

    Cinder runs what needs root (os-brick's privsep helper, dd of a
    generic migration) as ``sudo cinder-rootwrap ...`` / ``sudo
    privsep-helper ...``. The lab runs as root on machines without
    sudo: the lab's own ``sudo`` runs the command as it is.
    """
    helpers = tmp_path / 'bin'
    os.makedirs(helpers, exist_ok=True)
    sudo = helpers / 'sudo'
    sudo.write_text('#!/bin/sh\nexec "$@"\n')
    sudo.chmod(0o755)
    return fixtures.write_config(tmp_path / 'rootwrap.conf', {
        'DEFAULT': {
            'filters_path': os.path.join(venv, 'etc', 'cinder',
                                         'rootwrap.d'),
            'exec_dirs': ','.join((
                os.path.join(venv, 'bin'), '/sbin', '/usr/sbin',
                '/bin', '/usr/bin', '/usr/local/bin')),
            'use_syslog': False}})

