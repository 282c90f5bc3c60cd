"""Percentiles, latency summaries and RSS growth, on numbers done by hand."""

import pytest

from benchmarks import stats


def test_percentile_interpolates_between_closest_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 50) == 2.5
    assert stats.percentile(values, 100) == 4.0
    # NOTE: rank (4 - 1) * 0.99 = 2.97, between 3.0 and 4.0.
    assert stats.percentile(values, 99) == pytest.approx(3.97)


def test_percentile_of_one_value_is_that_value():
    assert stats.percentile([7.5], 95) == 7.5


def test_percentile_refuses_no_values_and_bad_q():
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1.0], 101)


def test_latency_summary_is_in_milliseconds():
    summary = stats.latency_summary([0.001 * n for n in range(1, 101)])
    assert summary['count'] == 100
    assert summary['p50_ms'] == pytest.approx(50.5)
    assert summary['p99_ms'] == pytest.approx(99.01)
    assert summary['max_ms'] == pytest.approx(100.0)
    assert summary['mean_ms'] == pytest.approx(50.5)


def test_latency_summary_of_nothing_says_so():
    assert stats.latency_summary([]) == {'count': 0}


def test_growth_compares_last_tenth_with_second_tenth():
    # NOTE: a warm-up jump in the first tenth does not count as growth.
    values = [10.0] * 10 + [100.0] * 80 + [110.0] * 10
    growth = stats.growth(values)
    assert growth['first'] == 10.0
    assert growth['last'] == 110.0
    assert growth['max'] == 110.0
    assert growth['mean_2nd_10pct'] == 100.0
    assert growth['growth_pct'] == pytest.approx(10.0)
    assert growth['second_half_growth_pct'] == pytest.approx(10.0)


def test_growth_that_stops_is_told_from_growth_that_goes_on():
    plateau = [100.0] * 20 + [115.0] * 80
    growth = stats.growth(plateau)
    assert growth['growth_pct'] == pytest.approx(15.0)
    assert growth['second_half_growth_pct'] == 0.0


def test_growth_of_a_flat_series_is_zero():
    assert stats.growth([50.0] * 30)['growth_pct'] == 0.0


def test_growth_needs_ten_samples():
    assert stats.growth([1.0] * 9) is None
