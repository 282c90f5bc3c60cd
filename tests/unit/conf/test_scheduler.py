from scheduler_worker.scheduler import driver
from tests import fixtures


def test_overrides_stay_in_their_own_configuration():
    changed = fixtures.make_conf(scheduler__max_volume_size_gb=7,
                                 scheduler__topic='elsewhere')
    default = fixtures.make_conf()
    assert (changed.scheduler.max_volume_size_gb,
            changed.scheduler.topic) == (7, 'elsewhere')
    assert (default.scheduler.max_volume_size_gb,
            default.scheduler.topic) == (16384, 'scheduler-worker')


def test_defaults_name_cinders_filters_and_weigher():
    scheduler = driver.FilterScheduler(fixtures.make_conf())
    assert [type(f).__name__ for f in scheduler.filters] == [
        'AvailabilityZoneFilter', 'CapacityFilter', 'CapabilitiesFilter']
    assert [type(w).__name__ for w in scheduler.weighers] == [
        'CapacityWeigher']
