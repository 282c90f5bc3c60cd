"""The lean reference: the worker's job, done by the benchmark's own code."""

# NOTE: sysexits' EX_TEMPFAIL, the exit code of a lean process whose
# RabbitMQ or PostgreSQL connection broke (another session restarting a
# service), not a fault of its own: the harness runs the phase again.
SERVICE_LOST = 75
