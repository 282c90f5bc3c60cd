"""The run's summary against the issue's targets, printed and as JSON."""

import json
import os

# NOTE: the targets of issue 4 ("Must show").
RATIO_TARGET = 0.7
P99_TARGET_MS = 50.0
RSS_GROWTH_TARGET_PCT = 10.0


def raw_reference(result: dict) -> float | None:
    raw = result.get('raw_kombu', {}).get('ack_each')
    return raw['casts_per_s'] if raw else None


def verdicts(result: dict) -> list[tuple[str, bool]]:
    """Each target of the issue that this run measured, met or not."""
    found = []
    for entry in result.get('worker', []):
        ratio = entry.get('ratio_to_raw')
        if ratio is not None:
            found.append(('worker %s >= %.1f x raw kombu (%.2f)' % (
                entry['variant'], RATIO_TARGET, ratio),
                ratio >= RATIO_TARGET))
    for point in result.get('latency', {}).get('points', []):
        if point['label'] == '50%' and point['commit_visible'].get('count'):
            p99 = point['commit_visible']['p99_ms']
            found.append(('p99 publish->commit <= %.0f ms at 50%% (%.1f ms)'
                          % (P99_TARGET_MS, p99), p99 <= P99_TARGET_MS))
    workers = (result.get('rss') or {}).get('workers_kb')
    if workers:
        found.append(('RSS growth <= %.0f%% (%+.1f%%)' % (
            RSS_GROWTH_TARGET_PCT, workers['growth_pct']),
            workers['growth_pct'] <= RSS_GROWTH_TARGET_PCT))
    return found


def _machine_line(machine: dict) -> str:
    return ('%s, %s cores, %s GiB, kernel %s, Python %s, RabbitMQ %s, '
            'PostgreSQL %s, worker %s' % (
                machine['cpu_model'], machine['cores'],
                machine['memory_gib'], machine['kernel'], machine['python'],
                machine['rabbitmq'], machine['postgresql'],
                machine['worker_commit']))


def _throughput_lines(result: dict) -> list[str]:
    reference = raw_reference(result)
    lines = ['Throughput, casts/s (same bodies, same run; ratio to raw '
             'kombu acking each):']
    for key, label in (('ack_each', 'raw kombu, ack each'),
                       ('multi_ack', 'raw kombu, multi-ack 100'),
                       ('ack_each_decoded', 'raw kombu, ack each, decoded')):
        raw = result.get('raw_kombu', {}).get(key)
        if raw:
            lines.append('  %-34s %8.1f  %5.2f' % (
                label, raw['casts_per_s'],
                raw['casts_per_s'] / reference if reference else 1.0))
    for entry in result.get('worker', []):
        measured = entry.get('result')
        if not measured:
            lines.append('  %-34s   failed: %s' % (
                'worker ' + entry['variant'], entry.get('error')))
            continue
        ratio = entry.get('ratio_to_raw')
        lines.append('  %-34s %8.1f  %s   (worker CPU %.0f%% of a core, '
                     'machine %.0f%% busy, %d errors)' % (
                         'worker %s (%d proc)' % (entry['variant'],
                                                  entry['workers']),
                         measured['casts_per_s'],
                         '%5.2f' % ratio if ratio is not None else '    -',
                         measured['worker_cpu_pct'],
                         measured['machine_busy_pct'],
                         measured['error_notifications']))
        per_cast = measured.get('database_per_cast')
        if per_cast:
            lines.append('  %-34s per cast: %.2f commits, %.2f rollbacks, '
                         '%.3f sessions opened, %.2f rows inserted; %d AMQP '
                         'connections' % (
                             '', per_cast['commits'], per_cast['rollbacks'],
                             per_cast['sessions'], per_cast['inserted'],
                             measured['amqp_connections_at_end']))
    return lines


def _latency_lines(latency: dict) -> list[str]:
    lines = ['Latency publish->commit, ms (commit-visible; [insert-stamp '
             'p50/p99]); max throughput taken as %.1f/s:'
             % latency['max_rate_per_s']]
    for point in latency['points']:
        visible, stamp = point['commit_visible'], point['insert_stamp']
        lines.append(
            '  %-4s offered %6.1f/s achieved %6.1f/s  p50 %7.1f  p95 %7.1f '
            ' p99 %7.1f  max %7.1f  [%.1f/%.1f]' % (
                point['label'], point['offered_per_s'],
                point['achieved_per_s'], visible['p50_ms'],
                visible['p95_ms'], visible['p99_ms'], visible['max_ms'],
                stamp.get('p50_ms', float('nan')),
                stamp.get('p99_ms', float('nan'))))
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
    if result.get('raw_kombu') or result.get('worker'):
        lines += _throughput_lines(result)
    if result.get('latency'):
        lines += _latency_lines(result['latency'])
    if result.get('rss'):
        lines += _rss_lines(result['rss'])
    if result.get('profile', {}).get('summary'):
        lines += _profile_lines(result['profile']['summary'])
    checks = verdicts(result)
    if checks:
        lines.append('Targets of issue 4:')
        lines += ['  [%s] %s' % ('met ' if ok else 'MISS', text)
                  for text, ok in checks]
    for failure in result.get('failures', []):
        lines.append('FAILED: %s' % failure)
    return '\n'.join(lines)


def write_json(result: dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as output:
        json.dump(result, output, indent=1, sort_keys=True, default=str)
