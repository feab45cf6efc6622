# Two entry points for a newcomer: `make demo` and `make test`.
# Both create the virtual environment on first use and reinstall when
# pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo solve-demo test test-all lint bench-solomon bench-fieldday

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,bench]"
	@echo "Compiling the ruin-and-recreate kernel (numba, cached; once per install)..."
	$(PY) -c "from optimiser.ruin_recreate import warm_up; warm_up()"
	touch $(STAMP)

install: $(STAMP)

## The main job: the API on the demo data set (tomorrow's day), demo log-ins printed.
## Add ARGS="--reset" to load the data again, ARGS="--port 8001" for another port.
demo: $(STAMP)
	$(PY) -m api demo $(ARGS)

## The optimiser alone on the demo day (exchange-format JSON in and out).
solve-demo: $(STAMP)
	$(PY) -m optimiser solve data/demo/request.json --out out/demo-plan.json --time-limit 10

## Fast test suite (slow tests are deselected; `make test-all` runs them too).
test: $(STAMP)
	$(PY) -m pytest -n 2 -q

test-all: $(STAMP)
	$(PY) -m pytest -n 2 -q -m ""

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench-solomon: $(STAMP)
	$(PY) tests/benchmarks/solomon.py

bench-fieldday: $(STAMP)
	$(PY) tests/benchmarks/fieldday.py
