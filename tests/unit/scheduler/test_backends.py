"""BackendRegistry on a real SQLite database."""

import datetime
import uuid

from oslo_utils import timeutils
import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import objects
from scheduler_worker.db import api as db
from scheduler_worker.scheduler import backends
from tests import fixtures

NOW = datetime.datetime(2026, 11, 28, 12, 0, 0)


@pytest.fixture
def registry(sqlite_db):
    return backends.BackendRegistry(fixtures.make_conf(
        scheduler__default_availability_zone='zone-x'))


def _report(registry, *pools, at=NOW, host='hostA@lvm', **backend):
    return registry.update_service_capabilities(
        context.get_admin_context(), 'volume', host,
        fixtures.lvm_capabilities(*pools, **backend),
        timestamp=at.isoformat())


def _pools():
    return {p['host']: p for p in db.pool_get_all(
        context.get_admin_context())}


def _claim(pool_host, size):
    pool, admin = _pools()[pool_host], context.get_admin_context()
    objects.Volume.create_all(
        admin, [objects.Volume.new(admin, id=str(uuid.uuid4()), size=size,
                                   host=pool_host)],
        claims=[{'pool_id': pool['id'], 'host': pool_host, 'size': size,
                 'thick': True}])


def test_report_is_stored_with_its_pools(registry):
    assert _report(registry, fixtures.lvm_pool('a', 100),
                   fixtures.lvm_pool('b', 50, 20))
    pools = _pools()
    assert sorted(pools) == ['hostA@lvm#a', 'hostA@lvm#b']
    b = pools['hostA@lvm#b']
    assert (b['availability_zone'], b['physical_limit_gb'],
            b['allocated_gb']) == ('zone-x', 20, 0)
    assert b['capabilities']['storage_protocol'] == 'iSCSI'
    assert b['backend']['reported_at'] == NOW
    assert b['backend']['capabilities']['vendor_name'] == 'Open Source'


def test_reports_not_newer_than_the_stored_one_are_ignored(registry):
    assert _report(registry, fixtures.lvm_pool('a', 100))
    earlier = NOW - datetime.timedelta(seconds=1)
    assert not _report(registry, fixtures.lvm_pool('a', 5), at=earlier)
    assert not _report(registry, fixtures.lvm_pool('a', 5), at=NOW)
    assert _pools()['hostA@lvm#a']['physical_limit_gb'] == 100
    later = NOW + datetime.timedelta(seconds=1)
    assert _report(registry, fixtures.lvm_pool('a', 5), at=later)
    assert _pools()['hostA@lvm#a']['physical_limit_gb'] == 5


def test_reports_never_change_claims(registry):
    _report(registry, fixtures.lvm_pool('a', 100))
    _claim('hostA@lvm#a', 30)
    _report(registry, fixtures.lvm_pool('a', 100),
            at=NOW + datetime.timedelta(seconds=60))
    pool = _pools()['hostA@lvm#a']
    assert (pool['allocated_gb'], pool['physical_limit_gb']) == (30, 100)


def test_a_new_pool_starts_with_what_the_backend_has_allocated(registry):
    _report(registry, fixtures.lvm_pool('a', 100, 60,
                                        allocated_capacity_gb=40))
    pool = _pools()['hostA@lvm#a']
    assert (pool['allocated_gb'], pool['physical_limit_gb']) == (40, 100)


def test_pool_missing_from_a_report_is_gone_until_it_returns(registry):
    _report(registry, fixtures.lvm_pool('a', 100), fixtures.lvm_pool('b', 9))
    _claim('hostA@lvm#b', 4)
    _report(registry, fixtures.lvm_pool('a', 100),
            at=NOW + datetime.timedelta(seconds=1))
    assert sorted(_pools()) == ['hostA@lvm#a']
    _report(registry, fixtures.lvm_pool('a', 100), fixtures.lvm_pool('b', 9),
            at=NOW + datetime.timedelta(seconds=2))
    assert _pools()['hostA@lvm#b']['allocated_gb'] == 4


def test_zone_comes_from_the_report_when_it_has_one(registry):
    _report(registry, fixtures.lvm_pool('a', 1),
            fixtures.lvm_pool('b', 1, availability_zone='az-b'),
            availability_zone='az-backend')
    zones = {h: p['availability_zone'] for h, p in _pools().items()}
    assert zones == {'hostA@lvm#a': 'az-backend', 'hostA@lvm#b': 'az-b'}


def test_reports_of_other_services_are_ignored(registry):
    assert not registry.update_service_capabilities(
        context.get_admin_context(), 'backup', 'hostA',
        {'backend_state': 'up'})
    assert db.backend_get_all(context.get_admin_context()) == []


def test_unreadable_report_raises_and_stores_nothing(registry):
    with pytest.raises(exception.InvalidCapabilities,
                       match='hostA@lvm: pool names must be unique'):
        _report(registry, fixtures.lvm_pool('a', 1),
                fixtures.lvm_pool('a', 2))
    with pytest.raises(exception.InvalidCapabilities, match='ISO 8601'):
        registry.update_service_capabilities(
            context.get_admin_context(), 'volume', 'hostA@lvm', {},
            timestamp='yesterday')
    assert db.backend_get_all(context.get_admin_context()) == []


def test_report_without_timestamp_or_from_the_future_is_taken_now(
        registry):
    before = timeutils.utcnow()
    registry.update_service_capabilities(
        context.get_admin_context(), 'volume', 'hostA@lvm',
        fixtures.lvm_capabilities(fixtures.lvm_pool('a', 1)))
    _report(registry, fixtures.lvm_pool('a', 1), host='hostB@lvm',
            at=before + datetime.timedelta(days=365))
    for backend in db.backend_get_all(context.get_admin_context()):
        assert before <= backend['reported_at'] <= timeutils.utcnow()


def test_backend_is_down_after_its_reports_stop(registry):
    _report(registry, fixtures.lvm_pool('a', 1))
    backend = db.backend_get(context.get_admin_context(), 'hostA@lvm')
    received = backend['updated_at']
    assert backends.is_up(backend, 60, received + datetime.timedelta(
        seconds=60))
    assert not backends.is_up(backend, 60, received + datetime.timedelta(
        seconds=61))


def test_static_pools_never_go_down_and_accumulate(registry):
    registry.register_static(context.get_admin_context(), 'st@lvm#a',
                             total_gb=10)
    backend = registry.register_static(
        context.get_admin_context(), 'st@lvm#b', total_gb=20, free_gb=15,
        thin=True, max_over_subscription_ratio='2.0',
        extra={'tier': 'gold'})
    assert backend['static']
    assert backends.is_up(backend, 1, timeutils.utcnow() +
                          datetime.timedelta(days=30))
    pools = {p['host']: p for p in backend['pools']}
    assert sorted(pools) == ['st@lvm#a', 'st@lvm#b']
    assert (pools['st@lvm#a']['availability_zone'],
            pools['st@lvm#a']['physical_limit_gb']) == ('zone-x', 10)
    assert (pools['st@lvm#b']['physical_limit_gb'],
            pools['st@lvm#b']['virtual_limit_gb']) == (15, 40)
    assert pools['st@lvm#b']['capabilities']['tier'] == 'gold'
