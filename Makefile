# Two commands matter: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STATE ?= $(CURDIR)/.state
# Real Cinder for tests/interop, in a venv of its own: Cinder pins
# eventlet-era versions that must not reach the project's venv.
CINDER_VENV ?= $(CURDIR)/.cinder-venv
CINDER_CONSTRAINTS := tests/interop/cinder-constraints.txt
RUN_CONF := $(STATE)/scheduler-worker.conf

.PHONY: run test test-fast venv cinder-venv lint sample bench bench-base clean

$(BIN)/scheduler-worker: setup.cfg requirements.txt test-requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -r test-requirements.txt -e .
	touch $@

venv: $(BIN)/scheduler-worker

$(CINDER_VENV)/.installed: $(CINDER_CONSTRAINTS)
	$(PYTHON) -m venv $(CINDER_VENV)
	$(CINDER_VENV)/bin/pip install --quiet -c $(CINDER_CONSTRAINTS) \
		cinder==29.0.0 psycopg2-binary fixtures
	touch $@

cinder-venv: $(CINDER_VENV)/.installed

$(RUN_CONF):
	mkdir -p $(STATE)
	printf '[DEFAULT]\nstate_path = %s\n' '$(STATE)' > $@

# A worker on the local RabbitMQ, with the embedded SQLite database.
run: venv $(RUN_CONF)
	$(BIN)/scheduler-worker-manage --config-file $(RUN_CONF) db sync
	$(BIN)/scheduler-worker --config-file $(RUN_CONF)

# The whole suite: unit, functional, integration (real services), fault,
# and interop (real Cinder processes from CINDER_VENV).
test: venv cinder-venv
	SW_CINDER_VENV=$(CINDER_VENV) $(BIN)/pytest $(PYTEST_ARGS)

# The loop while editing: what needs no RabbitMQ, database server or
# process kills (unit, functional, deploy), in a minute or two.
test-fast: venv
	$(BIN)/pytest -m 'not integration and not fault and not interop' \
	    $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check scheduler_worker tests benchmarks

sample: venv
	$(BIN)/oslo-config-generator --config-file etc/oslo-config-generator/scheduler-worker.conf

# Measures the worker on this machine's RabbitMQ and PostgreSQL; see
# doc/performance.md. BENCH_ARGS="--quick" for a two-minute smoke run.
bench: venv
	$(BIN)/pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The scheduler_worker of another revision (BENCH_BASE_REV, main unless
# told), for a variant that runs it beside this tree's in one bench run:
#   make bench-base && make bench BENCH_ARGS="--variant default: \
#       --variant main:source=.bench-base --latency-variants 2"
BENCH_BASE_REV ?= main
bench-base:
	rm -rf .bench-base && mkdir -p .bench-base
	git archive $(BENCH_BASE_REV) scheduler_worker | tar -x -C .bench-base

clean:
	rm -rf $(VENV) $(CINDER_VENV) $(STATE) .pytest_cache
