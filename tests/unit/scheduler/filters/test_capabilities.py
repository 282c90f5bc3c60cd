import pytest

from scheduler_worker.scheduler import request
from scheduler_worker.scheduler.filters import capabilities
from tests import fixtures

REPORT = fixtures.lvm_capabilities(
    fixtures.lvm_pool('lvm', 100, thin_provisioning_support=True,
                      qos={'iops': 500}, tiers=['gold', 'silver'],
                      compression='True'),
    volume_backend_name='lvm-1')


def _passes(extra_specs, report=REPORT):
    volume_type = {'name': 'gold', 'extra_specs': extra_specs}
    return capabilities.CapabilitiesFilter(
        fixtures.make_conf()).backend_passes(
            fixtures.pool(report), request.VolumeRequest(
                context=None, size=1, volume_type=volume_type))


def test_volume_type_without_extra_specs_passes():
    assert _passes({})


def test_backend_name_must_match():
    assert _passes({'volume_backend_name': 'lvm-1'})
    assert not _passes({'volume_backend_name': 'ceph'})


def test_capabilities_scope_looks_in_the_report():
    assert _passes({'capabilities:storage_protocol': 'iSCSI'})
    assert not _passes({'capabilities:storage_protocol': 'FC'})


def test_other_scopes_are_ignored():
    assert _passes({'provisioning:type': 'thin',
                    'vendor:feature': 'anything'})


@pytest.mark.parametrize('specs,expected', [
    ({'thin_provisioning_support': '<is> True'}, True),
    ({'thick_provisioning_support': '<is> False'}, False),
    ({'compression': '<is> true'}, True),
    ({'capabilities:total_capacity_gb': '>= 100'}, True),
    ({'capabilities:total_capacity_gb': '>= 101'}, False),
    ({'capabilities:qos:iops': '>= 400'}, True),
    ({'capabilities:qos:iops': '<= 400'}, False),
    ({'tiers': 'silver'}, True),
    ({'tiers': 'bronze'}, False),
    ({'storage_protocol': 's== iSCSI'}, True),
    ({'storage_protocol': 's!= iSCSI'}, False),
    ({'driver_version': '<in> 3.0'}, True)])
def test_operators_apply_to_reported_values(specs, expected):
    assert _passes(specs) is expected


def test_capability_the_pool_does_not_report_fails():
    assert not _passes({'replication_enabled': '<is> True'})
    assert not _passes({'capabilities:qos:latency': '<= 1'})


def test_explanation_names_the_unmet_specs():
    pools = [fixtures.pool(REPORT)]
    volume_type = {'name': 'gold', 'extra_specs': {
        'volume_backend_name': 'ceph', 'storage_protocol': 'iSCSI'}}
    explained = capabilities.CapabilitiesFilter(
        fixtures.make_conf()).explain(pools, request.VolumeRequest(
            context=None, size=1, volume_type=volume_type))
    assert explained == ('No backend meets the extra specs of volume type '
                         '"gold": volume_backend_name=ceph')


def _extend(attach_status):
    return request.VolumeRequest(
        context=None, size=1, volume_type={'name': 'gold'}, request_spec={
            'operation': 'extend_volume',
            'volume_properties': {'attach_status': attach_status}})


@pytest.mark.parametrize('online,attach_status,expected', [
    (False, 'attached', False),
    (False, 'reserved', False),
    (False, 'detached', True),
    (True, 'attached', True),
    (None, 'attached', True)])
def test_an_attached_volume_extends_only_where_online_extend_works(
        online, attach_status, expected):
    # NOTE: Cinder's rule: a backend can extend online unless it says
    # online_extend_support False (None: it reports nothing).
    extra = {} if online is None else {'online_extend_support': online}
    report = fixtures.lvm_capabilities(fixtures.lvm_pool('lvm', 100, **extra))
    verdict = capabilities.CapabilitiesFilter(
        fixtures.make_conf()).backend_passes(
            fixtures.pool(report), _extend(attach_status))
    assert verdict is expected


def test_online_extend_matters_only_to_an_extend():
    report = fixtures.lvm_capabilities(fixtures.lvm_pool(
        'lvm', 100, online_extend_support=False))
    create = request.VolumeRequest(
        context=None, size=1, volume_type={'name': 'gold'}, request_spec={
            'operation': 'create_volume',
            'volume_properties': {'attach_status': 'attached'}})
    assert capabilities.CapabilitiesFilter(
        fixtures.make_conf()).backend_passes(fixtures.pool(report), create)


def test_the_explanation_says_the_backend_cannot_extend_online():
    report = fixtures.lvm_capabilities(fixtures.lvm_pool(
        'lvm', 100, online_extend_support=False))
    explained = capabilities.CapabilitiesFilter(
        fixtures.make_conf()).explain([fixtures.pool(report)],
                                      _extend('attached'))
    assert 'online_extend_support' in explained
