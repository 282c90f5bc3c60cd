"""The throughput panel's bars: the lean reference, then the worker."""

from benchmarks import plot


def _drain(casts_per_s: float, cpu_ms: float) -> dict:
    return {'casts_per_s': casts_per_s, 'cpu_ms_per_cast': cpu_ms}


def test_bars_put_each_worker_beside_the_lean_reference_it_is_held_to():
    result = {
        'raw_kombu': {'ack_each': {'casts_per_s': 9000.0}},
        'lean': [{'processes': 1, 'result': _drain(1000.0, 0.5)},
                 {'processes': 2, 'result': _drain(1800.0, 0.55)}],
        'worker': [{'variant': 'default', 'workers': 1,
                    'ratio_to_lean': 0.4, 'result': _drain(400.0, 2.0)},
                   {'variant': 'broken', 'workers': 1, 'error': 'exited'},
                   {'variant': 'alone', 'workers': 3,
                    'result': _drain(900.0, 2.2)}]}
    bars = plot.throughput_bars(result)
    assert [(b['label'], b['value']) for b in bars] == [
        ('lean\n1 proc', 1000.0), ('worker\ndefault\n1 proc', 400.0),
        ('lean\n2 proc', 1800.0), ('worker\nalone\n3 proc', 900.0)]
    assert bars[0]['text'] == '1000\n0.50 ms'
    assert bars[1]['text'] == '400\n0.40x\n2.00 ms'
    assert bars[3]['text'] == '900\n2.20 ms'
    assert [b['colour'] for b in bars] == [
        plot.LEAN_COLOUR, plot.WORKER_COLOUR, plot.LEAN_COLOUR,
        plot.WORKER_COLOUR]
