"""Consumer progress: what READY=1 and WATCHDOG=1 are based on."""

from scheduler_worker.messaging import listener


def test_progress_is_consuming_only_while_polls_keep_ending_attached(
        monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(listener.time, 'monotonic', lambda: now[0])
    progress = listener.ConsumerProgress()
    assert not progress.attached.is_set() and not progress.consuming()
    progress.mark()
    assert progress.attached.is_set() and progress.consuming()
    now[0] += listener.ConsumerProgress.STALE_AFTER + 0.1
    assert not progress.consuming()
    assert progress.attached.is_set(), 'attached once stays attached'


def test_drivers_without_consumers_count_as_consuming():
    progress = listener.ConsumerProgress()
    progress.mark_always()
    assert progress.attached.is_set() and progress.consuming()
