"""An operator reads and sets the scheduler's log levels through os-services.

``PUT /os-services/get-log`` and ``/set-log`` (microversion 3.32) with
``binary: cinder-scheduler``: cinder-api calls get_log_levels and casts
set_log_levels to the scheduler's server queue. Runs once per scheduler
slot: what Cinder's own scheduler does is what ours must do, on the
loggers of each (``cinder.scheduler`` for Cinder's, ``scheduler_worker``
for ours).
"""

import pytest

from tests.interop import rest

PREFIXES = {'cinder-scheduler': 'cinder.scheduler',
            'scheduler-worker': 'scheduler_worker'}
BINARY = 'cinder-scheduler'


def _levels(lab, prefix: str) -> dict[str, str]:
    """The scheduler's levels under ``prefix``, as get-log answers them."""
    [entry] = lab.client.get_log_levels(binary=BINARY, prefix=prefix)
    assert entry['binary'] == BINARY
    return entry['levels']


def test_scheduler_log_levels_are_read_and_set_at_run_time(lab):
    prefix = PREFIXES[lab.scheduler_slot.name]
    [scheduler] = lab.client.services(
        binary=BINARY, microversion=rest.BEFORE_BACKEND_STATE)
    [entry] = lab.client.get_log_levels(binary=BINARY, prefix=prefix)
    assert entry['host'] == scheduler['host']
    before = entry['levels']
    assert before and all(name.startswith(prefix) for name in before)
    assert set(before.values()) <= {'DEBUG', 'INFO', 'WARNING', 'ERROR'}

    lab.client.set_log_levels('error', binary=BINARY, prefix=prefix)
    # NOTE: set-log is a cast (HTTP 202 at once): wait until it is applied.
    after = lab.client.wait_for(
        lambda: _levels(lab, prefix),
        lambda levels: set(levels.values()) == {'ERROR'}, 60,
        'the ERROR level on the scheduler')
    assert set(after) >= set(before)

    lab.client.set_log_levels('INFO', binary=BINARY, prefix=prefix)
    lab.client.wait_for(
        lambda: _levels(lab, prefix),
        lambda levels: set(levels.values()) == {'INFO'}, 60,
        'the INFO level on the scheduler')


def test_a_bad_level_is_refused_by_cinder_api_and_changes_nothing(lab):
    prefix = PREFIXES[lab.scheduler_slot.name]
    before = _levels(lab, prefix)
    with pytest.raises(rest.HTTPError) as raised:
        lab.client.set_log_levels('LOUD', binary=BINARY, prefix=prefix)
    assert raised.value.status == 400
    assert _levels(lab, prefix) == before
