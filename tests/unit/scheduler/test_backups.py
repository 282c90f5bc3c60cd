"""Backup hosts: chosen among fresh, working reports in the zone."""

import datetime

from scheduler_worker.scheduler import backups

T0 = datetime.datetime(2026, 12, 2, 1, 0, 0)
POSIX = {'backend_state': True, 'availability_zone': 'nova',
         'driver_name': 'cinder.backup.drivers.posix.PosixBackupDriver'}


def test_only_working_hosts_of_the_zone_with_a_fresh_report_are_offered():
    registry = backups.BackupRegistry(down_time=60)
    registry.update('a', POSIX, now=T0)
    registry.update('b', dict(POSIX, availability_zone='az1'), now=T0)
    registry.update('c', dict(POSIX, backend_state=False), now=T0)
    registry.update('d', POSIX, now=T0 - datetime.timedelta(seconds=61))
    assert registry.hosts('nova', now=T0) == ['a']
    assert registry.hosts('az1', now=T0) == ['b']
    assert registry.hosts('elsewhere', now=T0) == []


def test_a_newer_report_replaces_the_last_one():
    registry = backups.BackupRegistry(down_time=60)
    registry.update('a', POSIX, now=T0)
    registry.update('a', dict(POSIX, backend_state=False), now=T0)
    assert registry.choose('nova') is None


def test_choose_picks_one_of_the_fitting_hosts():
    registry = backups.BackupRegistry(down_time=60)
    registry.update('a', POSIX)
    registry.update('b', POSIX)
    assert {registry.choose('nova') for _ in range(50)} <= {'a', 'b'}
    assert registry.choose('az1') is None
