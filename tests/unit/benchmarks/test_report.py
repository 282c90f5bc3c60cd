"""Ratios to the references, the issue's targets and the printed summary."""

import pytest

from benchmarks import report


def _drain(casts_per_s: float, cpu_seconds: float, seconds: float = 10.0,
           casts: int = 1000) -> dict:
    return {'casts': casts, 'seconds': seconds, 'casts_per_s': casts_per_s,
            'cpu_seconds': cpu_seconds,
            'cpu_ms_per_cast': 1000.0 * cpu_seconds / casts,
            'machine_busy_pct': 90.0, 'error_notifications': 0,
            'amqp_connections_at_end': 4,
            'database_per_cast': {'commits': 0.1, 'rollbacks': 0.0,
                                  'inserted': 3.0, 'deleted': 1.0},
            'notification_sample': {'info': {
                'event_type': 'scheduler.create_volume.end',
                'priority': 'INFO', 'payload_keys': ['size', 'volume_id']}}}


def _point(label: str, p50: float, p99: float) -> dict:
    return {'label': label, 'offered_per_s': 100.0, 'achieved_per_s': 100.0,
            'casts': 100, 'insert_stamp': {'count': 0},
            'commit_visible': {'count': 100, 'p50_ms': p50, 'p95_ms': p99,
                               'p99_ms': p99, 'max_ms': p99}}


def _result() -> dict:
    return {
        'run_id': 'r1', 'started_utc': '2026-12-02T00:00:00Z', 'casts': 1000,
        'machine': {'cpu_model': 'Xeon', 'cores': 2, 'memory_gib': 8,
                    'kernel': '6', 'python': '3.11', 'rabbitmq': '3.10',
                    'postgresql': '15', 'worker_commit': 'abc',
                    'load_average_at_start': [1.3, 1.0, 1.0],
                    'load_average_at_end': [2.5, 1.0, 1.0]},
        'raw_kombu': {'ack_each': {'casts_per_s': 10000.0}},
        'lean': [{'processes': 1, 'result': _drain(1000.0, 5.0)},
                 {'processes': 2, 'result': _drain(1600.0, 8.0)}],
        'worker': [
            {'variant': 'default', 'workers': 1, 'settings': [],
             'result': _drain(400.0, 20.0)},
            {'variant': 'two-processes', 'workers': 2, 'settings': [],
             'result': _drain(800.0, 30.0)},
            {'variant': 'broken', 'workers': 1, 'settings': [],
             'error': 'the worker exited'}],
        'latency': {'max_rate_per_s': 400.0, 'points': [
            _point('10%', 4.0, 25.0), _point('50%', 9.0, 40.0)]},
        'latency_lean': {'max_rate_per_s': 400.0, 'points': [
            _point('10%', 3.0, 6.0), _point('50%', 4.0, 9.0)]},
        'failures': []}


def test_worker_ratios_are_to_the_lean_reference_with_as_many_processes():
    result = _result()
    report.annotate(result)
    one, two, broken = result['worker']
    assert one['ratio_to_lean'] == pytest.approx(0.4)
    assert two['ratio_to_lean'] == pytest.approx(0.5)
    assert one['ratio_to_raw'] == pytest.approx(0.04)
    assert one['cpu_per_cast_to_lean'] == pytest.approx(4.0)
    assert two['cpu_per_cast_to_lean'] == pytest.approx(3.75)
    assert 'ratio_to_lean' not in broken


def test_no_lean_reference_no_ratio_to_it():
    result = _result()
    del result['lean']
    report.annotate(result)
    assert 'ratio_to_lean' not in result['worker'][0]
    assert result['worker'][0]['ratio_to_raw'] == pytest.approx(0.04)


def test_old_results_get_cpu_per_cast_from_their_cpu_shares():
    result = _result()
    old = result['worker'][0]['result']
    del old['cpu_seconds'], old['cpu_ms_per_cast']
    old.update(worker_cpu_pct=90.0, master_cpu_pct=10.0)
    report.annotate(result)
    assert old['cpu_seconds'] == pytest.approx(10.0)
    assert old['cpu_ms_per_cast'] == pytest.approx(10.0)


def test_verdicts_follow_issue_13():
    result = _result()
    report.annotate(result)
    verdicts = dict(report.verdicts(result))
    assert verdicts == {
        'worker default >= 0.7 x the lean reference, 1 process (0.40)':
            False,
        'p99 publish->commit <= 20 ms at 10% (25.0 ms)': False,
        'p50 publish->commit <= 10 ms at 50% (9.0 ms)': True,
        'p99 publish->commit <= 50 ms at 50% (40.0 ms)': True}


def test_summary_shows_each_drain_with_ratios_and_cpu_per_cast():
    result = _result()
    report.annotate(result)
    lines = report.summary(result).splitlines()
    lean = next(line for line in lines if 'lean reference (1 proc)' in line)
    assert lean.split()[4:8] == ['1000.0', '1.00', '0.10', '5.00']
    worker = next(line for line in lines if 'worker two-processes' in line)
    assert worker.split()[4:8] == ['800.0', '0.50', '0.08', '30.00']
    assert lines[lines.index(worker) + 2].split()[-5:] == [
        '3.75', 'x', 'the', 'lean', "reference's"]
    assert any('worker broken (1 proc)' in line and 'failed' in line
               for line in lines)
    assert any('the same event type, priority and payload keys' in line
               for line in lines)
    assert any(line.split()[:2] == ['50%', 'lean'] and '9.0' in line
               for line in lines)
    assert 'load average 1.3 at the start, 2.5 at the end' in lines[2]
    assert '[MISS] worker default' in report.summary(result)


def test_latency_of_more_variants_is_shown_beside_the_first():
    result = _result()
    result['latency']['variant'] = 'default'
    result['latency_others'] = [{'variant': 'main', 'points': [
        _point('10%', 7.0, 30.0), _point('50%', 12.0, 70.0)]}]
    lines = report.summary(result).splitlines()
    start = next(i for i, line in enumerate(lines) if '10% default' in line)
    assert [line.split()[:2] for line in lines[start:start + 6]] == [
        ['10%', 'default'], ['10%', 'main'], ['10%', 'lean'],
        ['50%', 'default'], ['50%', 'main'], ['50%', 'lean']]
    assert lines[start + 4].split()[6:8] == ['p50', '12.0']


def test_summary_says_when_the_lean_reference_notifies_otherwise():
    result = _result()
    result['lean'][0]['result']['notification_sample']['info'][
        'payload_keys'] = ['size']
    assert 'NOT the same' in report.summary(result)


def test_oslo_messaging_floor_is_set_against_the_lean_reference():
    result = _result()
    result['oslo_noop'] = {'casts': 1000, 'seconds': 0.5,
                           'casts_per_s': 2000.0, 'cpu_seconds': 0.45,
                           'cpu_ms_per_cast': 0.45}
    lines = report.summary(result).splitlines()
    floor = next(i for i, line in enumerate(lines)
                 if 'oslo.messaging RPC server, no-op' in line)
    assert lines[floor].split()[4:9] == ['2000.0', '2.00', '0.20', '0.45',
                                         '90%']
    # NOTE: the lean reference spends 5.00 ms a cast in this result.
    assert lines[floor + 1].split()[2:] == [
        '0.09', 'x', 'the', 'CPU', 'per', 'cast', 'of', 'the', 'whole',
        'lean', 'pipeline;', '0.7', 'x', 'lean', 'leaves', 'the', 'worker',
        '7.14', 'ms']


def test_no_oslo_messaging_drain_no_floor_line():
    assert 'oslo.messaging' not in report.summary(_result())
