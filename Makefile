# Reframer — the two commands are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
# cfn-lint, checkov and aws-sam-translator pin below the app's pins: a virtualenv of their own.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install tools system-deps run demo test lint format typecheck pytest migrate requirements bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv

# Reinstall whenever the pinned set changes.
$(STAMP): requirements-dev.txt | $(PY)
	$(UV) pip install --quiet --python $(PY) -r requirements-dev.txt
	touch $@

install: system-deps $(STAMP) ## create .venv and install what is missing

$(TOOLS_STAMP): infra/requirements-tools.txt | $(PY)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(TOOLS_VENV)/bin/python -r infra/requirements-tools.txt
	touch $@

tools: $(TOOLS_STAMP) ## the infrastructure checkers (tests/infra) in .venv-tools

system-deps: ## install the Debian packages the project runs (PostgreSQL, Redis, ffmpeg) when missing
	@scripts/ensure-system-packages.sh

run: install ## run the whole system locally (SQLite, moto on loopback, local runners)
	$(PY) -m app.local

demo: $(STAMP) ## with `make run` up: register, upload a generated clip, wait, fetch the result
	$(PY) -m app.local.demo

test: install tools ## lint, type-check and run the whole test suite
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory pytest

lint: $(STAMP) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app lambdas batch bench

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

PYTEST_ARGS ?= -n 2
pytest: $(STAMP) $(TOOLS_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

migrate: $(STAMP) ## upgrade the configured database to the newest schema
	$(PY) -m alembic upgrade head

requirements: $(PY) ## re-pin requirements*.txt from pyproject.toml
	$(UV) pip compile --quiet pyproject.toml --extra api -o requirements.txt
	$(UV) pip compile --quiet pyproject.toml --all-extras -o requirements-dev.txt
	$(UV) pip compile --quiet pyproject.toml --extra batch -o batch/requirements.txt
	$(UV) pip compile --quiet --python-version 3.11 infra/requirements-tools.in -o infra/requirements-tools.txt

BENCH ?=
bench: install ## benchmarks (goals live here, not in tests); one of them: make bench BENCH=load|scale|pipeline
	@command -v wrk >/dev/null 2>&1 || scripts/ensure-system-packages.sh wrk
	$(PY) -m bench $(BENCH)

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) $(TOOLS_VENV) var .pytest_cache .mypy_cache .ruff_cache
