"""The lean reference: the worker's job, done by the benchmark's own code."""
