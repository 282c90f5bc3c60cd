"""The run as one PNG: throughput, latency per load, RSS over casts."""

import os


def _throughput(axis, result: dict) -> None:
    labels, values, colours = [], [], []
    for key, label in (('ack_each', 'raw kombu\nack each'),
                       ('multi_ack', 'raw kombu\nmulti-ack'),
                       ('ack_each_decoded', 'raw kombu\n+ decode')):
        raw = result.get('raw_kombu', {}).get(key)
        if raw:
            labels.append(label)
            values.append(raw['casts_per_s'])
            colours.append('#9e9e9e')
    for entry in result.get('worker', []):
        if entry.get('result'):
            labels.append('worker\n%s' % entry['variant'])
            values.append(entry['result']['casts_per_s'])
            colours.append('#1f77b4')
    bars = axis.bar(range(len(values)), values, color=colours)
    reference = result.get('raw_kombu', {}).get('ack_each')
    for bar, value in zip(bars, values, strict=True):
        text = '%.0f' % value
        if reference:
            text += '\n%.2fx' % (value / reference['casts_per_s'])
        axis.annotate(text, (bar.get_x() + bar.get_width() / 2, value),
                      ha='center', va='bottom', fontsize=8)
    if reference:
        axis.axhline(0.7 * reference['casts_per_s'], color='#d62728',
                     linestyle='--', linewidth=1, label='0.7 x raw')
        axis.legend(fontsize=8, loc='upper right')
    axis.set_xticks(range(len(values)), labels, fontsize=8)
    axis.set_ylabel('casts/s')
    axis.set_title('Throughput, %d casts' % result['casts'], fontsize=10)
    axis.margins(y=0.2)


def _latency(axis, latency: dict) -> None:
    from matplotlib import ticker

    points = latency['points']
    width = 0.25
    for offset, (key, colour) in enumerate((('p50_ms', '#2ca02c'),
                                            ('p95_ms', '#ff7f0e'),
                                            ('p99_ms', '#d62728'))):
        axis.bar([i + (offset - 1) * width for i in range(len(points))],
                 [p['commit_visible'][key] for p in points], width,
                 color=colour, label=key.replace('_ms', ''))
    axis.axhline(50, color='black', linestyle=':', linewidth=1,
                 label='50 ms')
    axis.set_xticks(range(len(points)), [
        '%s\n%.0f/s' % (p['label'], p['offered_per_s']) for p in points],
        fontsize=8)
    axis.set_ylabel('publish -> commit, ms (log scale)')
    axis.set_yscale('log')
    axis.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(ticker.FuncFormatter(
        lambda value, _: '%g' % value))
    axis.yaxis.set_minor_formatter(ticker.NullFormatter())
    axis.set_title('Latency at offered load', fontsize=10)
    axis.legend(fontsize=8)


def _rss(axis, rss: dict) -> None:
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

    panels = [(_throughput, result)]
    if result.get('latency', {}).get('points'):
        panels.append((_latency, result['latency']))
    if result.get('rss', {}).get('workers_kb'):
        panels.append((_rss, result['rss']))
    figure, axes = pyplot.subplots(1, len(panels),
                                   figsize=(5 * len(panels), 4.2))
    axes = axes if len(panels) > 1 else [axes]
    for axis, (draw_panel, data) in zip(axes, panels, strict=True):
        draw_panel(axis, data)
    figure.suptitle('scheduler-worker, run %s (%s)' % (
        result['run_id'], result['started_utc']), fontsize=10)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
