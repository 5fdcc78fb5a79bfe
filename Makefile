# The two commands of the README:
#   make run    the product: Prefect server + UI on 127.0.0.1:4200 (SQLite), deployments, worker
#   make test   every test, with lint and type checks first
# Both create .venv and install the locked dependencies on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick lint unit integration flows bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/complaints up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The inner loop, in under two minutes: lint, then the unit and integration tiers on SQLite
# (no PostgreSQL, no end-to-end stack). `make test` before pushing runs everything.
quick: lint
	$(BIN)/pytest -m "not postgres and not e2e" tests/unit tests/integration

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

flows: $(STAMP)
	$(BIN)/pytest tests/flows

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
