import datetime

from scheduler_worker import context
from scheduler_worker import objects


def test_get_or_create_returns_the_same_row(sqlite_db):
    admin = context.get_admin_context()
    first = objects.Service.get_or_create(admin, 'h1', 'scheduler-worker',
                                          't')
    second = objects.Service.get_or_create(admin, 'h1', 'scheduler-worker',
                                           't')
    assert first.id == second.id
    assert len(objects.ServiceList.get_all(admin)) == 1


def test_heartbeat_counts_and_keeps_service_up(sqlite_db):
    admin = context.get_admin_context()
    service = objects.Service.get_or_create(admin, 'h1', 'scheduler-worker',
                                            't')
    service.heartbeat()
    service.heartbeat()
    assert service.report_count == 2
    assert service.is_up(down_time=60)
    later = service.updated_at + datetime.timedelta(seconds=61)
    assert not service.is_up(down_time=60, now=later)
