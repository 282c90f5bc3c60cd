from scheduler_worker.scheduler import request
from scheduler_worker.scheduler import weighers
from scheduler_worker.scheduler.weighers import capacity
from tests import fixtures


def _order(pools, multiplier=1.0, thick=False):
    conf = fixtures.make_conf(scheduler__capacity_weight_multiplier=multiplier)
    volume_type = {'extra_specs': {'provisioning:type': 'thick'}} \
        if thick else {}
    ordered = weighers.order(
        [capacity.CapacityWeigher(conf)], pools,
        request.VolumeRequest(context=None, size=1, volume_type=volume_type))
    return [pool.host for _, pool in ordered]


def _pool(host, total, allocated=0, **caps):
    return fixtures.pool(fixtures.lvm_capabilities(
        fixtures.lvm_pool('p', total, **caps)), host=host,
        allocated_gb=allocated)


def test_most_free_capacity_first():
    assert _order([_pool('small@lvm', 50), _pool('big@lvm', 100)]) == [
        'big@lvm#p', 'small@lvm#p']


def test_claims_of_other_workers_reduce_the_weight():
    assert _order([_pool('big@lvm', 100, allocated=60),
                   _pool('small@lvm', 50)]) == ['small@lvm#p', 'big@lvm#p']


def test_thin_pools_weigh_their_over_subscribed_capacity():
    thin = _pool('thin@lvm', 100, thin_provisioning_support=True,
                 max_over_subscription_ratio='2.0')
    thick = _pool('thick@lvm', 150)
    assert _order([thick, thin]) == ['thin@lvm#p', 'thick@lvm#p']
    # NOTE: a thick volume counts on the thin pool's real capacity only.
    assert _order([thick, thin], thick=True) == ['thick@lvm#p', 'thin@lvm#p']


def test_negative_multiplier_stacks_on_the_fullest():
    assert _order([_pool('big@lvm', 100), _pool('small@lvm', 50)],
                  multiplier=-1.0) == ['small@lvm#p', 'big@lvm#p']


def test_infinite_capacity_weighs_least_unless_stacking():
    pools = [_pool('inf@lvm', 100, free_gb='infinite'),
             _pool('small@lvm', 10)]
    assert _order(pools) == ['small@lvm#p', 'inf@lvm#p']
    assert _order(pools, multiplier=-1.0) == ['small@lvm#p', 'inf@lvm#p']
    assert _order([_pool('small@lvm', 10),
                   _pool('inf@lvm', 100, free_gb='unknown'),
                   _pool('big@lvm', 50)], multiplier=-1.0)[-1] == \
        'inf@lvm#p'
