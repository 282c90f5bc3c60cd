"""The Prometheus endpoint of a real two-process worker, scraped over HTTP."""

import collections
import re
import uuid

from tests import fixtures

PREFIX = 'scheduler_worker_'


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((PREFIX + name, tuple(sorted(labels.items()))), 0.0)


def _outbox(deployed, priority: str) -> int:
    return deployed.rows('SELECT count(*) FROM scheduler_worker_outbox '
                         'WHERE topic LIKE :p', p='%.' + priority)[0][0]


def _bad_context_cast() -> str:
    """A cast whose context is refused: recorded in error, not retried."""
    message = fixtures.plain_cast_message(
        {'id': str(uuid.uuid4()), 'size': 1}, timestamp='not a time')
    return fixtures.oslo_envelope(message)


def test_metrics_of_both_workers_change_as_casts_are_handled(deployment):
    deployed = deployment()
    port = fixtures.free_port()
    config = deployed.config(
        workers=2, metrics__enabled=True, metrics__port=port,
        metrics__sample_interval=1, scheduler__outbox_relay_interval=1,
        # NOTE: prefetch 2 per process: the casts are shared out.
        scheduler__concurrency=2,
        # NOTE: notifications cannot be published: they pile up in the
        # outbox, which the pending gauge must show.
        oslo_messaging_notifications__transport_url=(
            'rabbit://guest:guest@127.0.0.1:1/'))
    worker = deployed.worker(config)
    worker.wait_consuming(count=2)

    before = fixtures.scrape_metrics(port)
    assert _value(before, 'casts_received_total',
                  method='create_volume') == 0
    assert _value(before, 'casts_in_flight') == 0

    good = fixtures.plain_casts(40, 'metrics')
    refused = [fixtures.oslo_envelope(fixtures.plain_cast_message(
        {'id': str(uuid.uuid4()), 'size': 0}, user_id='u', project_id='p'))
        for _ in range(3)]
    unknown = fixtures.oslo_envelope({'method': 'no_such_method',
                                      'args': {}, '_unique_id': 'x' * 32})
    deployed.publish(good + refused + [unknown, _bad_context_cast()])
    # NOTE: done when every outcome is recorded: 44 volumes (4 in
    # error), and 5 ERROR notifications (4 refused, 1 rejected).
    fixtures.wait_until(lambda: deployed.volume_count() == 44 and
                        _outbox(deployed, 'error') == 5, timeout=120,
                        what='the casts to be handled')
    pending = _outbox(deployed, 'info') + 5
    assert pending == 45

    def settled():
        after = fixtures.scrape_metrics(port)
        return after if (
            _value(after, 'casts_received_total', method='unknown') == 1 and
            _value(after, 'outbox_pending', kind='notification') ==
            pending) else None
    after = fixtures.wait_until(settled, timeout=60, what='the samples')
    received = _value(after, 'casts_received_total', method='create_volume')
    # NOTE: every cast handled once: a refused context is refused, not
    # tried again.
    assert received == 44
    assert _value(after, 'casts_redelivered_total',
                  method='create_volume') == 0
    assert _value(after, 'casts_succeeded_total',
                  method='create_volume') == 40
    assert _value(after, 'casts_failed_total',
                  method='create_volume') == 4
    assert _value(after, 'casts_failed_total', method='unknown') == 1
    assert _value(after, 'cast_duration_seconds_count',
                  method='create_volume') == received
    assert _value(after, 'casts_in_flight') == 0
    assert (PREFIX + 'db_pool_checked_out', ()) in after
    # NOTE: every notification failed at least once, in the handler; the
    # oldest has waited since before the casts were all handled.
    assert _value(after, 'outbox_publish_failures_total',
                  kind='notification') >= pending
    assert _value(after, 'outbox_oldest_pending_seconds',
                  kind='notification') > 0
    assert _value(after, 'outbox_pending', kind='rpc_cast') == 0

    # NOTE: both processes handled casts, and the endpoint summed them.
    pids = collections.Counter(
        re.search(r' (\d+) INFO scheduler_worker.volumes', line).group(1)
        for line in worker.log().splitlines()
        if 'Created volume' in line)
    assert len(pids) == 2, pids
    assert worker.terminate() == 0
