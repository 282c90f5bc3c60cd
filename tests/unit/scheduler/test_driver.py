"""FilterScheduler on a real SQLite database, default filters and weighers."""

import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import request
from tests import fixtures


def _candidates(zones=(), size=1, host=None, extra_specs=None, **conf):
    scheduler = driver.FilterScheduler(fixtures.make_conf(**conf))
    ctxt = context.get_admin_context()
    return [pool.host for pool in scheduler.candidates(
        ctxt, request.VolumeRequest(
            context=ctxt, size=size, availability_zones=list(zones),
            host=host, volume_type={'name': 'gold',
                                    'extra_specs': extra_specs or {}}))]


def _refused(**kwargs) -> str:
    with pytest.raises(exception.NoValidBackend) as caught:
        _candidates(**kwargs)
    return str(caught.value)


@pytest.fixture
def three_pools(sqlite_db):
    fixtures.static_backend('a@lvm#p', 100, 'nova')
    fixtures.static_backend('b@lvm#p', 300, 'nova', extra={'tier': 'gold'})
    fixtures.static_backend('c@lvm#p', 200, 'az1')


def test_candidates_pass_every_filter_heaviest_first(three_pools):
    assert _candidates() == ['b@lvm#p', 'c@lvm#p', 'a@lvm#p']
    assert _candidates(zones=['nova']) == ['b@lvm#p', 'a@lvm#p']
    assert _candidates(size=150) == ['b@lvm#p', 'c@lvm#p']
    assert _candidates(extra_specs={'tier': 'gold'}) == ['b@lvm#p']


def test_named_backend_or_pool_restricts_the_candidates(three_pools):
    assert _candidates(host='a@lvm') == ['a@lvm#p']
    assert _candidates(host='c@lvm#p') == ['c@lvm#p']


def test_each_refusal_says_what_to_change(three_pools):
    assert _refused(zones=['az9']) == (
        'No valid backend was found. No backend in availability zone '
        '"az9" (known zones: az1, nova)')
    assert _refused(size=301) == (
        'No valid backend was found. No backend has 301 GiB of free '
        'capacity left (the most is 300 GiB, on b@lvm#p)')
    assert _refused(extra_specs={'tier': 'platinum'}) == (
        'No valid backend was found. No backend meets the extra specs of '
        'volume type "gold": tier=platinum')
    assert _refused(host='x@lvm#p') == (
        'No valid backend was found. Backend x@lvm#p is not known: no '
        'volume service reported it')
    assert 'known zones: nova' in _refused(host='a@lvm', zones=['az1'])


def test_without_backends_nothing_can_be_placed(sqlite_db):
    assert _refused() == ('No valid backend was found. No backend has '
                          'reported its capabilities yet')


def test_backends_that_stopped_reporting_are_down(sqlite_db):
    backends.BackendRegistry(fixtures.make_conf()).update_service_capabilities(
        context.get_admin_context(), 'volume', 'gone@lvm',
        fixtures.lvm_capabilities(fixtures.lvm_pool('p', 100)))
    with sqlite_db.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE scheduler_worker_backends "
            "SET updated_at = '2000-01-01 00:00:00'")
    assert _refused() == ('No valid backend was found. Every backend is '
                          'down: no capability report for too long')
    assert _refused(host='gone@lvm') == (
        'No valid backend was found. gone@lvm is down: no capability '
        'report for too long')


def test_an_unknown_filter_stops_the_worker_at_start():
    with pytest.raises(ValueError, match='Unknown scheduler_worker.scheduler'
                       '.filters: RamFilter'):
        driver.FilterScheduler(fixtures.make_conf(
            scheduler__default_filters=['CapacityFilter', 'RamFilter']))
