# Tierlens: `make demo` runs the product on sample data, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DB ?= tierlens.duckdb
ARGS ?=

.PHONY: demo test lint bench screenshots metrics clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/tierlens demo --db $(DB) $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(wildcard pipelines dashboards tests benchmarks)
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -n 2 --dist loadfile $(ARGS)

# The files generated from the KPI registry (pipelines/metrics/registry.py).
metrics: $(VENV)/.installed
	$(VENV)/bin/tierlens metrics generate

bench: $(VENV)/.installed
	$(PY) -m benchmarks.run $(ARGS)

screenshots: $(VENV)/.installed
	$(PY) -m tests.dashboard.screenshots --out docs/screenshots

clean:
	rm -rf $(VENV) $(DB) $(DB).wal artifacts
