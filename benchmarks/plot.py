"""The run as one PNG: throughput, latency per load, RSS over casts."""

import os

from benchmarks import report

LEAN_COLOUR = '#2ca02c'
WORKER_COLOUR = '#1f77b4'


def _lean_bar(entry: dict) -> dict:
    measured = entry['result']
    return {'label': 'lean\n%d proc' % entry['processes'],
            'value': measured['casts_per_s'], 'colour': LEAN_COLOUR,
            'text': '%.0f\n%.2f ms' % (measured['casts_per_s'],
                                       measured['cpu_ms_per_cast'])}


def _worker_bar(entry: dict) -> dict:
    measured = entry['result']
    ratio = entry.get('ratio_to_lean')
    return {'label': 'worker\n%s\n%d proc' % (entry['variant'],
                                              entry['workers']),
            'value': measured['casts_per_s'], 'colour': WORKER_COLOUR,
            'text': '%.0f%s\n%.2f ms' % (
                measured['casts_per_s'],
                '\n%.2fx' % ratio if ratio is not None else '',
                measured['cpu_ms_per_cast'])}


def throughput_bars(result: dict) -> list[dict]:
    """The bars of the throughput panel, by number of processes.

    Each process count: the lean reference, then the worker variants
    held against it. Each bar says casts/s and CPU ms per cast, the
    worker's also its ratio to the lean reference. The raw kombu drains
    are an order of magnitude above: they go in a note, not in bars.
    """
    lean = {entry['processes']: entry for entry in result.get('lean') or []
            if entry.get('result')}
    workers = [entry for entry in result.get('worker', [])
               if entry.get('result')]
    bars = []
    for processes in sorted(set(lean) | {e['workers'] for e in workers}):
        if processes in lean:
            bars.append(_lean_bar(lean[processes]))
        bars += [_worker_bar(entry) for entry in workers
                 if entry['workers'] == processes]
    return bars


def _raw_note(result: dict) -> str:
    raw = result.get('raw_kombu', {})
    return '\n'.join('%s: %.0f/s' % (label, raw[key]['casts_per_s'])
                     for key, label in report.RAW_LABELS if key in raw)


def _throughput(axis, result: dict) -> None:
    bars = throughput_bars(result)
    drawn = axis.bar(range(len(bars)), [b['value'] for b in bars],
                     color=[b['colour'] for b in bars])
    for bar, spec in zip(drawn, bars, strict=True):
        axis.annotate(spec['text'], (bar.get_x() + bar.get_width() / 2,
                                     spec['value']),
                      ha='center', va='bottom', fontsize=7)
    lean = report.lean_reference(result, 1)
    if lean:
        axis.axhline(report.LEAN_RATIO_TARGET * lean['casts_per_s'],
                     color='#d62728', linestyle='--', linewidth=1,
                     label='%.1f x lean, 1 proc' % report.LEAN_RATIO_TARGET)
        axis.legend(fontsize=7, loc='upper left')
    note = _raw_note(result)
    if note:
        axis.text(0.98, 0.98, note, transform=axis.transAxes, ha='right',
                  va='top', fontsize=6, color='#555555')
    axis.set_xticks(range(len(bars)), [b['label'] for b in bars],
                    fontsize=7)
    axis.set_ylabel('casts/s (label: casts/s, x lean, CPU ms per cast)',
                    fontsize=8)
    axis.set_title('Throughput, %d casts' % result['casts'], fontsize=10)
    axis.margins(y=0.35)


def _latency(axis, result: dict) -> None:
    from matplotlib import ticker

    points = result['latency']['points']
    lean = {p['label']: p for p in
            (result.get('latency_lean') or {}).get('points', [])}
    series = [('worker p50', points, 'p50_ms', WORKER_COLOUR, ''),
              ('worker p99', points, 'p99_ms', '#d62728', '')]
    if lean:
        matched = [lean.get(p['label']) for p in points]
        series += [('lean p50', matched, 'p50_ms', LEAN_COLOUR, '//'),
                   ('lean p99', matched, 'p99_ms', '#98df8a', '//')]
    width = 0.8 / len(series)
    for offset, (label, chosen, key, colour, hatch) in enumerate(series):
        axis.bar([i + (offset - (len(series) - 1) / 2) * width
                  for i in range(len(points))],
                 [p['commit_visible'][key] if p else 0 for p in chosen],
                 width, color=colour, hatch=hatch, label=label)
    for limit in (10, 50):
        axis.axhline(limit, color='black', linestyle=':', linewidth=1)
    axis.set_xticks(range(len(points)), [
        '%s\n%.0f/s' % (p['label'], p['offered_per_s']) for p in points],
        fontsize=8)
    axis.set_ylabel('publish -> commit visible, ms (log scale)', fontsize=8)
    axis.set_yscale('log')
    axis.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(ticker.FuncFormatter(
        lambda value, _: '%g' % value))
    axis.yaxis.set_minor_formatter(ticker.NullFormatter())
    axis.set_title('Latency at %% of the worker\'s %.0f/s' % (
        result['latency']['max_rate_per_s']), fontsize=10)
    axis.legend(fontsize=7)


def _rss(axis, result: dict) -> None:
    rss = result['rss']
    samples = rss['samples']
    casts = [s['rows'] for s in samples]
    axis.plot(casts, [s['workers_kb'] / 1024 for s in samples],
              label='worker processes')
    axis.plot(casts, [s['master_kb'] / 1024 for s in samples],
              label='master')
    axis.set_xlabel('casts committed')
    axis.set_ylabel('RSS, MiB')
    axis.set_ylim(bottom=0)
    growth = rss['workers_kb']
    axis.set_title('RSS, growth %+.1f%% (2nd half %+.1f%%)' % (
        growth['growth_pct'], growth.get('second_half_growth_pct', 0.0)),
        fontsize=10)
    axis.legend(fontsize=8)


def draw(result: dict, path: str) -> None:
    """Write the PNG; panels for phases that did not run are left out."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    panels = [_throughput]
    if result.get('latency', {}).get('points'):
        panels.append(_latency)
    if result.get('rss', {}).get('workers_kb'):
        panels.append(_rss)
    figure, axes = pyplot.subplots(1, len(panels),
                                   figsize=(5.5 * len(panels), 4.6))
    axes = axes if len(panels) > 1 else [axes]
    for axis, draw_panel in zip(axes, panels, strict=True):
        draw_panel(axis, result)
    machine = result.get('machine', {})
    figure.suptitle('scheduler-worker, run %s (%s), %s x %s, load %s' % (
        result['run_id'], result['started_utc'], machine.get('cores'),
        machine.get('cpu_model'),
        report.load_text(machine.get('load_average_at_start'))), fontsize=9)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
