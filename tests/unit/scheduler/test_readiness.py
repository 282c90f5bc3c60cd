"""Readiness: placement waits for the first report, the deadline, or stop."""

import threading

from scheduler_worker.scheduler import readiness


def test_no_wait_time_means_ready_at_once():
    assert readiness.Readiness(0).wait() is True


def test_a_report_ends_the_wait_of_every_waiting_cast():
    ready = readiness.Readiness(600)
    results = []
    waiters = [threading.Thread(target=lambda: results.append(ready.wait()))
               for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    ready.reported()
    for waiter in waiters:
        waiter.join(timeout=10)
    assert results == [True, True, True]


def test_the_wait_ends_at_the_deadline_without_a_report():
    assert readiness.Readiness(0.05).wait() is False


def test_stopping_ends_the_wait():
    ready = readiness.Readiness(600)
    ready.stop()
    assert ready.wait() is True
