"""work_cleanup / do_cleanup: the strict reading of a CleanupRequest and
the do_cleanup casts, against Cinder 29's own objects."""

import copy
import datetime

import pytest

from scheduler_worker import cleanup
from scheduler_worker import exception
from scheduler_worker.objects import primitives
from tests import fixtures

# NOTE: built with Cinder 29's code (the Cinder venv): a CleanupRequest
# (is_up False, until 2026-12-02T01:29:42) with service_id 7, host
# dead-host, binary cinder-scheduler set as work_cleanup sets them,
# obj_to_primitive(): what Cinder's scheduler casts as do_cleanup.
CINDER_ONWARD = {
    'versioned_object.name': 'CleanupRequest',
    'versioned_object.namespace': 'cinder',
    'versioned_object.version': '1.0',
    'versioned_object.data': {
        'service_id': 7, 'cluster_name': None, 'host': 'dead-host',
        'binary': 'cinder-scheduler', 'is_up': False, 'disabled': None,
        'resource_id': None, 'resource_type': None,
        'until': '2026-12-02T01:29:42Z'},
    'versioned_object.changes': [
        'resource_id', 'is_up', 'cluster_name', 'resource_type', 'disabled',
        'binary', 'service_id', 'until', 'host']}
UNTIL = datetime.datetime(2026, 12, 2, 1, 29, 42)


def _captured() -> dict:
    return copy.deepcopy(next(
        m['message'] for m in fixtures.wire_sample(
            'cinder29/workers_cleanup.json')['messages']
        if m['message'].get('method') == 'work_cleanup'))


def _service(**values) -> dict:
    return dict({'id': 7, 'host': 'dead-host', 'binary': 'cinder-scheduler',
                 'cluster_name': None}, **values)


def test_the_schedulers_do_cleanup_is_cinders():
    request = cleanup.cleanup_request(
        _captured()['args']['cleanup_request'])
    cast = cleanup.do_cleanup_cast(request, _service(), UNTIL)
    assert (cast.topic, cast.server, cast.method, cast.version) == (
        'cinder-scheduler', None, 'do_cleanup', '3.4')
    onward = cast.args['cleanup_request']
    assert onward['versioned_object.data'] == \
        CINDER_ONWARD['versioned_object.data']
    assert set(onward['versioned_object.changes']) == set(
        CINDER_ONWARD['versioned_object.changes'])
    for key in ('versioned_object.name', 'versioned_object.namespace',
                'versioned_object.version'):
        assert onward[key] == CINDER_ONWARD[key]


@pytest.mark.parametrize('service, key', [
    (_service(host='lab@b1', binary='cinder-volume'),
     'cinder-volume.lab@b1.lab'),
    (_service(host='lab@b1', binary='cinder-volume', cluster_name='cl@b1'),
     'cinder-volume.cl@b1.cl')])
def test_a_volume_services_do_cleanup_goes_to_its_queue_at_3_7(service,
                                                               key):
    request = cleanup.cleanup_request(
        _captured()['args']['cleanup_request'])
    cast = cleanup.do_cleanup_cast(request, service, UNTIL)
    assert ('%s.%s' % (cast.topic, cast.server), cast.version) == (key,
                                                                   '3.7')


@pytest.mark.parametrize('change', [
    lambda r: r.update({'versioned_object.name': 'Volume'}),
    lambda r: r.update({'versioned_object.version': '2.0'}),
    lambda r: r['versioned_object.data'].update(service_id='7'),
    lambda r: r['versioned_object.data'].update(service_id=True),
    lambda r: r['versioned_object.data'].update(is_up='false'),
    lambda r: r['versioned_object.data'].update(until='yesterday'),
    lambda r: r['versioned_object.data'].update(host=3)])
def test_a_malformed_cleanup_request_is_refused(change):
    request = _captured()['args']['cleanup_request']
    change(request)
    with pytest.raises(exception.Invalid):
        cleanup.cleanup_request(request)


def test_a_plain_dict_is_refused():
    with pytest.raises(exception.Invalid):
        cleanup.cleanup_request({'is_up': False})


def test_until_is_read_to_the_second():
    assert cleanup.until({'until': '2026-12-02T01:29:42Z'}) == UNTIL
    assert cleanup.until({}) is None


def test_a_service_reply_is_cinders_service_primitive():
    row = _service(topic='cinder-scheduler', report_count=2, disabled=False,
                   created_at=UNTIL, updated_at=None, uuid='u')
    reply = cleanup.service_primitive(row)
    assert (reply['versioned_object.name'],
            reply['versioned_object.version']) == ('Service', '1.6')
    data = reply['versioned_object.data']
    assert (data['id'], data['host'], data['binary'], data['cluster_name'],
            data['created_at']) == (7, 'dead-host', 'cinder-scheduler', None,
                                    '2026-12-02T01:29:42Z')
    assert primitives.is_primitive(reply)
