"""Pure arithmetic on measurements: percentiles, latency, RSS growth."""

import math


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between closest ranks.

    The same definition as numpy's default ('linear').
    """
    if not values:
        raise ValueError('percentile of no values')
    if not 0 <= q <= 100:
        raise ValueError('q must be within 0-100, not %r' % q)
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict[str, float | int]:
    """Count, mean, p50/p95/p99 and max, in milliseconds."""
    if not seconds:
        return {'count': 0}
    millis = [s * 1000.0 for s in seconds]
    return {'count': len(millis),
            'mean_ms': sum(millis) / len(millis),
            'p50_ms': percentile(millis, 50),
            'p95_ms': percentile(millis, 95),
            'p99_ms': percentile(millis, 99),
            'max_ms': max(millis)}


def window_mean(values: list[float], first: float, last: float) -> float:
    """Mean of the slice between two fractions (0-1) of a series."""
    start = int(len(values) * first)
    stop = max(int(len(values) * last), start + 1)
    chunk = values[start:stop]
    return sum(chunk) / len(chunk)


def growth(values: list[float]) -> dict[str, float] | None:
    """First, last, max, and the growth of the last 10% over the 2nd 10%.

    The first 10% is the warm-up (imports, pools, caches filling) and
    does not count; None when there are fewer than 10 samples. A warm-up
    longer than that shows as growth that stops: ``second_half_growth_pct``
    (the last 10% over the 6th 10%) tells it from a leak, which goes on.
    """
    if len(values) < 10:
        return None
    after_warmup = window_mean(values, 0.1, 0.2)
    middle = window_mean(values, 0.5, 0.6)
    final = window_mean(values, 0.9, 1.0)
    return {'first': values[0], 'last': values[-1], 'max': max(values),
            'mean_2nd_10pct': after_warmup, 'mean_6th_10pct': middle,
            'mean_last_10pct': final,
            'growth_pct': _change(after_warmup, final),
            'second_half_growth_pct': _change(middle, final)}


def _change(before: float, after: float) -> float:
    return 100.0 * (after - before) / before if before else 0.0
