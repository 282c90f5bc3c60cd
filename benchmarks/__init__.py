"""Benchmarks of scheduler-worker, run by hand: see doc/performance.md."""
