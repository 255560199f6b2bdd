# `make demo` and `make test` work on a fresh clone: each creates .venv and installs into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench nanp-pattern country-names clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,sandbox]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/cxlist demo

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -q -n 4  # most tests wait on loopback servers and child processes

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/sandbox_items.py
	$(BIN)/python benchmarks/pipeline.py --rows 1000000
	$(BIN)/python benchmarks/calling.py --rows 1000000
	$(BIN)/python benchmarks/upload.py --rows 100000 --concurrency 8
	$(BIN)/python benchmarks/report.py --rows 1000000
	$(BIN)/python benchmarks/commands.py
	$(BIN)/python benchmarks/plan_floor.py --rows 1000000

nanp-pattern: install
	$(BIN)/python tools/nanp_pattern.py

country-names: install
	$(BIN)/python tools/country_names.py

clean:
	rm -rf $(VENV) .cxlist .pytest_cache .mypy_cache .ruff_cache
