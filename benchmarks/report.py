"""The run's summary against the issue's targets, printed and as JSON."""

import json
import os

# NOTE: the targets of issue 13 ("Must show").
LEAN_RATIO_TARGET = 0.7
LATENCY_TARGETS_MS = {'50%': {'p50_ms': 10.0, 'p99_ms': 50.0},
                      '10%': {'p99_ms': 20.0}}
RSS_GROWTH_TARGET_PCT = 10.0

RAW_LABELS = (('ack_each', 'raw kombu, ack each'),
               ('multi_ack', 'raw kombu, multi-ack 100'),
               ('ack_each_decoded', 'raw kombu, ack each, decoded'))


def raw_reference(result: dict) -> float | None:
    raw = result.get('raw_kombu', {}).get('ack_each')
    return raw['casts_per_s'] if raw else None


def lean_reference(result: dict, processes: int) -> dict | None:
    """The lean reference's drain with ``processes`` processes, if any."""
    for entry in result.get('lean') or []:
        if entry['processes'] == processes and entry.get('result'):
            return entry['result']
    return None


def annotate(result: dict) -> None:
    """Give each worker figure its ratios to the references.

    ``ratio_to_lean`` is to the lean reference with as many processes as
    the variant; ``ratio_to_raw`` to raw kombu acking each message.
    """
    raw = raw_reference(result)
    drains = [entry.get('result') for entry in
              (result.get('lean') or []) + result.get('worker', [])]
    for measured in filter(None, drains):
        if 'cpu_seconds' not in measured:
            # NOTE: results saved before the CPU of every process counted.
            measured['cpu_seconds'] = measured['seconds'] * (
                measured['worker_cpu_pct'] + measured['master_cpu_pct']) / 100
            measured['cpu_ms_per_cast'] = (1000.0 * measured['cpu_seconds']
                                           / measured['casts'])
    for entry in result.get('worker', []):
        measured = entry.get('result')
        if not measured:
            continue
        if raw:
            entry['ratio_to_raw'] = measured['casts_per_s'] / raw
        lean = lean_reference(result, entry['workers'])
        if lean:
            entry['ratio_to_lean'] = (measured['casts_per_s']
                                      / lean['casts_per_s'])
            # NOTE: on a machine busy with others, casts/s follows the
            # CPU share each process gets; CPU per cast does not.
            entry['cpu_per_cast_to_lean'] = (measured['cpu_ms_per_cast']
                                             / lean['cpu_ms_per_cast'])


def verdicts(result: dict) -> list[tuple[str, bool]]:
    """Each target of the issue that this run measured, met or not."""
    found = []
    for entry in result.get('worker', []):
        ratio = entry.get('ratio_to_lean')
        if ratio is not None and entry['workers'] == 1:
            found.append(('worker %s >= %.1f x the lean reference, 1 process '
                          '(%.2f)' % (entry['variant'], LEAN_RATIO_TARGET,
                                      ratio), ratio >= LEAN_RATIO_TARGET))
    for point in result.get('latency', {}).get('points', []):
        visible = point['commit_visible']
        for key, limit in LATENCY_TARGETS_MS.get(point['label'], {}).items():
            if visible.get('count'):
                found.append(('%s publish->commit <= %.0f ms at %s (%.1f ms)'
                              % (key[:3], limit, point['label'],
                                 visible[key]), visible[key] <= limit))
    workers = (result.get('rss') or {}).get('workers_kb')
    if workers:
        found.append(('RSS growth <= %.0f%% (%+.1f%%)' % (
            RSS_GROWTH_TARGET_PCT, workers['growth_pct']),
            workers['growth_pct'] <= RSS_GROWTH_TARGET_PCT))
    return found


def load_text(values) -> str:
    """The 1-minute load average of a saved (1, 5, 15) triple."""
    return '%.1f' % values[0] if values else '?'


def _machine_line(machine: dict) -> str:
    return ('%s, %s cores, %s GiB, kernel %s, Python %s, RabbitMQ %s, '
            'PostgreSQL %s, worker %s; load average %s at the start, %s at '
            'the end' % (
                machine['cpu_model'], machine['cores'],
                machine['memory_gib'], machine['kernel'], machine['python'],
                machine['rabbitmq'], machine['postgresql'],
                machine['worker_commit'],
                load_text(machine.get('load_average_at_start')),
                load_text(machine.get('load_average_at_end'))))


def _ratio(value: float | None) -> str:
    return '%6.2f' % value if value is not None else '     -'


def _drain_line(label: str, measured: dict, to_lean: float | None,
                to_raw: float | None,
                cpu_to_lean: float | None = None) -> list[str]:
    """A drain by the worker or the lean reference, and what it cost."""
    lines = ['  %-36s %8.1f %s %s %7.2f %6.0f%% %6.0f%%  %d errors' % (
        label, measured['casts_per_s'], _ratio(to_lean), _ratio(to_raw),
        measured['cpu_ms_per_cast'],
        100.0 * measured['cpu_seconds'] / measured['seconds'],
        measured['machine_busy_pct'], measured['error_notifications'])]
    per_cast = measured.get('database_per_cast')
    if per_cast:
        lines.append('  %-36s per cast: %.3f commits, %.3f rollbacks, %.2f '
                     'rows inserted, %.2f deleted; %d AMQP connections' % (
                         '', per_cast['commits'], per_cast['rollbacks'],
                         per_cast['inserted'], per_cast['deleted'],
                         measured['amqp_connections_at_end']))
    if cpu_to_lean is not None:
        lines.append('  %-36s CPU per cast %.2f x the lean reference\'s'
                     % ('', cpu_to_lean))
    return lines


def _throughput_lines(result: dict) -> list[str]:
    raw, lean = raw_reference(result), lean_reference(result, 1)
    lines = ['Throughput (same bodies, same run). x lean: ratio to the lean '
             'reference with as many processes; x raw: to raw kombu acking '
             'each; CPU: user+sys of all its processes, ms per cast and % of '
             'one core; busy: the whole machine.',
             '  %-36s %8s %6s %6s %7s %7s %7s' % (
                 '', 'casts/s', 'x lean', 'x raw', 'CPU ms', 'CPU', 'busy')]
    for key, label in RAW_LABELS:
        measured = result.get('raw_kombu', {}).get(key)
        if measured:
            value = measured['casts_per_s']
            lines.append('  %-36s %8.1f %s %s' % (
                label, value, _ratio(value / lean['casts_per_s'] if lean
                                     else None),
                _ratio(value / raw if raw else None)))
    lines += _oslo_floor_lines(result, raw, lean)
    for entry in result.get('lean') or []:
        measured = entry['result']
        lines += _drain_line('lean reference (%d proc)' % entry['processes'],
                             measured, 1.0, measured['casts_per_s'] / raw
                             if raw else None)
    for entry in result.get('worker', []):
        label = 'worker %s (%d proc)' % (entry['variant'], entry['workers'])
        if not entry.get('result'):
            lines.append('  %-36s   failed: %s' % (label, entry.get('error')))
            continue
        lines += _drain_line(label, entry['result'],
                             entry.get('ratio_to_lean'),
                             entry.get('ratio_to_raw'),
                             entry.get('cpu_per_cast_to_lean'))
    lines += _same_notifications(result)
    return lines


def _oslo_floor_lines(result: dict, raw: float | None,
                      lean: dict | None) -> list[str]:
    """oslo.messaging's no-op drain, and what it leaves of the target."""
    floor = result.get('oslo_noop')
    if not floor:
        return []
    value = floor['casts_per_s']
    lines = ['  %-36s %8.1f %s %s %7.2f %6.0f%%' % (
        'oslo.messaging RPC server, no-op', value,
        _ratio(value / lean['casts_per_s'] if lean else None),
        _ratio(value / raw if raw else None), floor['cpu_ms_per_cast'],
        100.0 * floor['cpu_seconds'] / floor['seconds'])]
    if lean:
        lines.append('  %-36s receiving alone: %.2f x the CPU per cast of '
                     'the whole lean pipeline; %.1f x lean leaves the worker '
                     '%.2f ms' % ('', floor['cpu_ms_per_cast']
                                  / lean['cpu_ms_per_cast'],
                                  LEAN_RATIO_TARGET,
                                  lean['cpu_ms_per_cast'] / LEAN_RATIO_TARGET))
    return lines


def _same_notifications(result: dict) -> list[str]:
    """Whether the lean reference notifies as the worker does."""
    lean = lean_reference(result, 1)
    worker = ((result.get('worker') or [{}])[0].get('result') or {})
    theirs = (lean or {}).get('notification_sample', {}).get('info')
    ours = worker.get('notification_sample', {}).get('info')
    if not theirs or not ours:
        return []
    same = all(theirs[key] == ours[key] for key in ('event_type', 'priority',
                                                    'payload_keys'))
    return ['  lean reference notifications: %s event type, priority and '
            'payload keys as the worker\'s' % ('the same' if same else
                                               'NOT the same')]


def _point_line(label: str, point: dict) -> str:
    visible, stamp = point['commit_visible'], point['insert_stamp']
    return ('  %-14s offered %6.1f/s achieved %6.1f/s  p50 %7.1f  p95 %7.1f '
            ' p99 %7.1f  max %7.1f  [%.1f/%.1f]' % (
                label, point['offered_per_s'], point['achieved_per_s'],
                visible['p50_ms'], visible['p95_ms'], visible['p99_ms'],
                visible['max_ms'], stamp.get('p50_ms', float('nan')),
                stamp.get('p99_ms', float('nan'))))


def _latency_lines(result: dict) -> list[str]:
    latency = result['latency']
    lean = {point['label']: point for point in
            (result.get('latency_lean') or {}).get('points', [])}
    lines = ['Latency publish->commit, ms (commit-visible; [insert-stamp '
             'p50/p99]); loads in %% of the worker\'s %.1f casts/s, the lean '
             'reference at the same rates:' % latency['max_rate_per_s']]
    others = [(other['variant'], {point['label']: point
                                  for point in other.get('points', [])})
              for other in result.get('latency_others') or []]
    for point in latency['points']:
        lines.append(_point_line('%s %s' % (
            point['label'], latency.get('variant', 'worker')), point))
        for label, points in others:
            if point['label'] in points:
                lines.append(_point_line('%s %s' % (point['label'], label),
                                         points[point['label']]))
        if point['label'] in lean:
            lines.append(_point_line('%s lean' % point['label'],
                                     lean[point['label']]))
    return lines


def _rss_lines(rss: dict) -> list[str]:
    lines = ['RSS over %d casts, MiB (first / last / max; growth of the '
             'last 10%% over the 2nd 10%%, and over the 6th 10%%):'
             % rss['casts']]
    for key, label in (('workers_kb', 'worker processes (%d, summed)'
                        % rss['worker_processes']),
                       ('master_kb', 'master process')):
        series = rss.get(key)
        if series:
            lines.append('  %-32s %7.1f / %7.1f / %7.1f   %+6.1f%%  '
                         '%+6.1f%%' % (
                             label, series['first'] / 1024,
                             series['last'] / 1024, series['max'] / 1024,
                             series['growth_pct'],
                             series.get('second_half_growth_pct', 0.0)))
    return lines


def _profile_lines(profile: dict) -> list[str]:
    lines = ['Profile of the worker, GIL held (%d samples; self %%):'
             % profile.get('samples', 0)]
    for entry in profile.get('self', [])[:10]:
        lines.append('  %5.1f%%  %s' % (entry['pct'], entry['function']))
    if profile.get('packages'):
        lines.append('  by package: ' + ', '.join(
            '%s %.0f%%' % (entry['package'], entry['pct'])
            for entry in profile['packages'][:8]))
    return lines


def summary(result: dict) -> str:
    lines = ['', '== scheduler-worker benchmark, run %s, %s, %d casts ==' % (
        result['run_id'], result['started_utc'], result['casts']),
        'Machine: ' + _machine_line(result['machine'])]
    if result.get('raw_kombu') or result.get('worker') or result.get('lean'):
        lines += _throughput_lines(result)
    if result.get('latency'):
        lines += _latency_lines(result)
    if result.get('rss'):
        lines += _rss_lines(result['rss'])
    if result.get('profile', {}).get('summary'):
        lines += _profile_lines(result['profile']['summary'])
    checks = verdicts(result)
    if checks:
        lines.append('Targets of issue 13:')
        lines += ['  [%s] %s' % ('met ' if ok else 'MISS', text)
                  for text, ok in checks]
    for failure in result.get('failures', []):
        lines.append('FAILED: %s' % failure)
    return '\n'.join(lines)


def write_json(result: dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as output:
        json.dump(result, output, indent=1, sort_keys=True, default=str)
