"""validate_host_capacity in Cinder mode: Cinder's volumes fill the pools.

On Cinder 29's real schema (PostgreSQL): a pool's room is its limit less
the sizes of Cinder's live volumes on it (the Cinder backend's derived
allocation), so the answer changes as cinder-api's rows do, with no
claim of ours in between.
"""

from scheduler_worker import context
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import groups
from tests import fixtures


def _spec(size: int) -> dict:
    """The request spec of cinder-api's create-from-src, as a dict."""
    return {'group_id': 'd0c5234c-4e1b-44f5-9448-bb56355161ec',
            'volume_properties': {'size': size}}


def test_validate_host_capacity_counts_cinders_own_volumes(cinder_db):
    fixtures.static_backend('c@lvm#p', 100, 'nova')
    scheduler = driver.FilterScheduler(fixtures.make_conf())
    ctxt = context.get_admin_context()

    def validate(size: int) -> bool:
        return groups.validate_host_capacity(scheduler, ctxt, 'c@lvm',
                                             _spec(size), None)

    assert validate(100) is True
    volume_id = cinder_db.add_volume(size=60, host='c@lvm#p',
                                     status='available')
    assert validate(40) is True
    assert validate(41) is False
    cinder_db.execute('UPDATE volumes SET deleted = true, status = '
                      "'deleted' WHERE id = :id", id=volume_id)
    assert validate(100) is True
