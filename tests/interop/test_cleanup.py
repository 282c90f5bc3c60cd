"""POST /workers/cleanup after a volume service was killed mid-create.

Run once per scheduler slot (conftest.SCHEDULERS); driven only by
Cinder's REST API and by killing and starting processes. What Cinder 29
does (cinder/api/v3/workers.py, scheduler/manager.py work_cleanup,
manager.py CleanableManager): cinder-api asks the scheduler (a call) for
the services the request selects, by default the down ones only; the
scheduler sends do_cleanup to those that are up and lists the others as
``unavailable``. A killed volume service is down, so nothing cleans its
volume until it starts again: its own start-up cleanup sets the volume
it was creating to ``error``.
"""

import os
import time

from tests.interop import cinderconf
from tests.interop import rest

VOLUME_HOSTS = {('lab@%s' % name, 'cinder-volume')
                for name in cinderconf.BACKENDS}


def _listed(services: list[dict]) -> set[tuple[str, str]]:
    """(host, binary) of a cleanup reply's list; ids differ per lab."""
    assert all(s['cluster_name'] is None for s in services), services
    return {(s['host'], s['binary']) for s in services}


def _volume_services(lab) -> dict[str, str]:
    return {s['host']: s['state'] for s in lab.client.services(
        'cinder-volume', microversion=rest.BEFORE_BACKEND_STATE)}


def _do_cleanups(lab, since: float) -> set[tuple[str, str]]:
    """(routing key, version) of the do_cleanup casts seen since then."""
    return {(record['routing_key'], record['message'].get('version'))
            for record in lab.tap.matching('do_cleanup', since=since)}


def _hanging_volume(lab) -> dict:
    """A volume its driver is in the middle of creating (lab_drivers)."""
    volume = lab.client.create_volume(1, name='lab-hang-cleanup')
    markers = [os.path.join(lab.tmp_path, 'volumes', name,
                            'creating-%s' % volume['id'])
               for name in cinderconf.BACKENDS]
    rest.CinderClient.wait_for(
        lambda: [m for m in markers if os.path.exists(m)], bool, 120,
        'the driver to be creating %s' % volume['id'])
    return lab.client.show_volume(volume['id'])


def test_cleanup_after_a_volume_service_died_mid_create(lab):
    volume = _hanging_volume(lab)
    assert volume['status'] == 'creating'
    volume_service = lab.processes['cinder-volume']
    volume_service.kill()
    try:
        rest.CinderClient.wait_for(
            lambda: _volume_services(lab),
            lambda states: set(states.values()) == {'down'}, 120,
            'the killed volume services listed down')

        # The scheduler finds the dead services but has nobody to send
        # their cleanup to: it lists them unavailable, changes nothing.
        asked = time.time()
        reply = lab.client.workers_cleanup()
        assert (_listed(reply['cleaning']),
                _listed(reply['unavailable'])) == (set(), VOLUME_HOSTS)
        # NOTE: naming the resource makes cinder-api look its service up
        # and send service_id, by which Cinder's scheduler finds no
        # service at all.
        assert lab.client.workers_cleanup(resource_id=volume['id']) == {
            'cleaning': [], 'unavailable': []}
        assert lab.client.show_volume(volume['id'])['status'] == 'creating'
        assert _do_cleanups(lab, asked) == set()
    finally:
        volume_service.start()

    # The volume service, started again, cleans what it was doing.
    done = lab.client.wait_volume(volume['id'], timeout=180)
    assert (done['status'], done['os-vol-host-attr:host']) == (
        'error', volume['os-vol-host-attr:host'])
    lab.wait_services_up(180)
    lab.wait_pools(180)
    # Nothing is down any more: the default request selects nobody; asked
    # for the live volume services, the scheduler sends each its cleanup.
    assert lab.client.workers_cleanup() == {'cleaning': [],
                                            'unavailable': []}
    asked = time.time()
    reply = lab.client.workers_cleanup(binary='cinder-volume', is_up=True)
    assert (_listed(reply['cleaning']), _listed(reply['unavailable'])) == (
        VOLUME_HOSTS, set())
    # NOTE: one do_cleanup 3.7 to each volume service's own queue.
    wanted = {('cinder-volume.%s.lab' % host, '3.7')
              for host, _ in VOLUME_HOSTS}
    rest.CinderClient.wait_for(lambda: _do_cleanups(lab, asked),
                               lambda seen: seen == wanted, 30,
                               'the do_cleanup casts %s' % sorted(wanted))
    assert lab.client.show_volume(volume['id'])['status'] == 'error'
    # The lab goes on creating volumes.
    again = lab.client.create_volume(1, name='after-cleanup')
    assert lab.client.wait_volume(again['id'], timeout=120)[
        'status'] == 'available'
