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
# moto for the scale benchmark on Debian's PyPy, whose JIT halves moto's CPU per SQS message
# (bench/stack.py); the stamp exists only once it installed, else the benchmark uses CPython's.
MOTO_PYPY_VENV := .venv-moto-pypy
MOTO_PYPY_STAMP := $(MOTO_PYPY_VENV)/.installed

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

# Never fails the benchmark: without PyPy (no apt, no wheels) moto runs on CPython, and says so.
# Only pypy3 from Debian (`venv --without-pip`: uv installs); cryptography from its PyPy wheel.
$(MOTO_PYPY_STAMP): bench/requirements-moto-pypy.txt | $(PY)
	@if scripts/ensure-system-packages.sh pypy3 \
	    && rm -rf $(MOTO_PYPY_VENV) && pypy3 -m venv --without-pip $(MOTO_PYPY_VENV) \
	    && $(UV) pip install --quiet --python $(MOTO_PYPY_VENV)/bin/python \
	        --only-binary cryptography -r bench/requirements-moto-pypy.txt; then \
	    touch $@; \
	else \
	    echo "notice: moto on PyPy could not be installed; the scale benchmark serves moto from CPython" >&2; \
	fi

BENCH ?=
bench: install $(MOTO_PYPY_STAMP) ## benchmarks (goals live here, not in tests); one of them: make bench BENCH=load|scale|pipeline|quality
	@command -v wrk >/dev/null 2>&1 || scripts/ensure-system-packages.sh wrk
	$(PY) -m bench $(BENCH)

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) $(TOOLS_VENV) $(MOTO_PYPY_VENV) var .pytest_cache .mypy_cache .ruff_cache
