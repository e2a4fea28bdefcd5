# Reframer — the two commands are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# uv itself is pinned: it resolves the lock and installs every environment.
UV_VERSION := 0.13.9
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
STAMP := $(VENV)/.installed
# cfn-lint, checkov and aws-sam-translator pin below the app's pins: a virtualenv of their own.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
# moto for the scale benchmark on Debian's PyPy, whose JIT halves moto's CPU per SQS message
# (bench/stack.py); the stamp exists only once it installed, else the benchmark uses CPython's.
MOTO_PYPY_VENV := .venv-moto-pypy
MOTO_PYPY_STAMP := $(MOTO_PYPY_VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install tools system-deps run demo test lint format typecheck pytest coverage migrate docs lock requirements lambda-package bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

$(UV_STAMP): | $(PY)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	rm -f $(VENV)/.uv-* && touch $@

# Reinstall whenever the pinned set changes; hashes are checked. Bytecode is compiled here,
# as pip does in the images: where PYTHONDONTWRITEBYTECODE is set (CI, containers) every
# process would otherwise compile the libraries it imports from source (numpy alone 0.08 s).
$(STAMP): requirements-dev.txt $(UV_STAMP)
	$(UV) pip install --quiet --require-hashes --compile-bytecode --python $(PY) -r requirements-dev.txt
	touch $@

install: system-deps $(STAMP) ## create .venv and install what is missing

$(TOOLS_STAMP): infra/requirements-tools.txt $(UV_STAMP)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(UV) pip install --quiet --require-hashes --compile-bytecode --python $(TOOLS_VENV)/bin/python -r infra/requirements-tools.txt
	touch $@

tools: $(TOOLS_STAMP) ## the infrastructure checkers (tests/infra) in .venv-tools

system-deps: ## install the Debian packages the project runs (PostgreSQL, Redis, ffmpeg) when missing
	@scripts/ensure-system-packages.sh

run: install ## run the whole system locally (SQLite, moto on loopback, local runners)
	$(PY) -m devstack

demo: $(STAMP) ## with `make run` up: register, upload a generated clip, wait, fetch the result
	$(PY) -m devstack.demo

test: install tools ## lint, type-check and run the whole test suite
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory pytest

lint: $(STAMP) ## ruff, mypy and the layering contracts (import-linter, pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app contracts devstack lambdas batch bench scripts
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# axe-core for the console's accessibility checks (tests/browser), from the npm registry.
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	@command -v npm >/dev/null || scripts/ensure-system-packages.sh npm
	cd tests/browser/axe && npm ci --no-audit --no-fund --silent
	touch $@

# Line and branch coverage of every top-level package; the report prints one line per package
# and fails under the floors in scripts/coverage_report.py.
PYTEST_ARGS ?= -n 2
COVERAGE_ARGS := --cov --cov-branch --cov-report=
pytest: $(STAMP) $(TOOLS_STAMP) $(AXE)
	rm -f .coverage .coverage.*
	$(PY) -m pytest $(COVERAGE_ARGS) $(PYTEST_ARGS)
	$(PY) scripts/coverage_report.py

coverage: $(STAMP) ## the coverage of the last test run, per top-level package
	$(PY) scripts/coverage_report.py

migrate: $(STAMP) ## upgrade the configured database to the newest schema
	$(PY) -m alembic upgrade head

docs: $(STAMP) ## regenerate docs/configuration.md from app/config.py (tests/docs checks it)
	$(PY) -m scripts.configuration_docs

# One resolution for every artifact: requirements-dev.txt (.venv) holds every extra of
# pyproject.toml; each artifact's file is pinned from it (-c), with hashes, for the Linux x86_64 Python 3.11
# the images and Lambdas run. Resolved apart, sharing nothing that ships: the template
# checkers (checkov 3 pins pydantic, networkx and boto3 below the app's; .venv-tools only),
# the benchmark's moto on PyPy 3.9 (bench/requirements-moto-pypy.txt: another interpreter) and
# pyautoflip (bench/requirements-autoflip.txt: its own virtualenv, heavy dependencies left out).
# After editing pyproject.toml: `make lock`; to move to newer releases: `make lock UPGRADE=1`.
COMPILE = $(UV) pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu $(if $(UPGRADE),--upgrade)
lock requirements: $(UV_STAMP) ## re-pin every requirements file from pyproject.toml (one resolution)
	$(COMPILE) pyproject.toml --all-extras -o requirements-dev.txt
	$(COMPILE) pyproject.toml --extra api -c requirements-dev.txt -o requirements.txt
	$(COMPILE) pyproject.toml --extra lambdas -c requirements-dev.txt -o requirements-lambdas.txt
	$(COMPILE) pyproject.toml --extra batch -c requirements-dev.txt -o batch/requirements.txt
	$(COMPILE) infra/requirements-tools.in -o infra/requirements-tools.txt
	$(UV) pip compile --quiet --generate-hashes --python-version 3.9 $(if $(UPGRADE),--upgrade) \
		bench/requirements-moto-pypy.in -o bench/requirements-moto-pypy.txt
	$(COMPILE) --excludes bench/requirements-autoflip-excludes.txt bench/requirements-autoflip.in \
		-o bench/requirements-autoflip.txt

lambda-package: $(UV_STAMP) ## build/lambda: what the template deploys (requirements-lambdas.txt, lambdas/, contracts/)
	UV=$(UV) infra/build-lambda.sh

# Never fails the benchmark: without PyPy (no apt, no wheels) moto runs on CPython, and says so.
# Only pypy3 from Debian (`venv --without-pip`: uv installs); cryptography from its PyPy wheel.
$(MOTO_PYPY_STAMP): bench/requirements-moto-pypy.txt $(UV_STAMP)
	@if scripts/ensure-system-packages.sh pypy3 \
	    && rm -rf $(MOTO_PYPY_VENV) && pypy3 -m venv --without-pip $(MOTO_PYPY_VENV) \
	    && $(UV) pip install --quiet --require-hashes --python $(MOTO_PYPY_VENV)/bin/python \
	        --only-binary cryptography -r bench/requirements-moto-pypy.txt; then \
	    touch $@; \
	else \
	    echo "notice: moto on PyPy could not be installed; the scale benchmark serves moto from CPython" >&2; \
	fi

BENCH ?=
bench: install $(MOTO_PYPY_STAMP) ## benchmarks (goals live here, not in tests); one of them: make bench BENCH=load|scale|pipeline|quality|long
	@command -v wrk >/dev/null 2>&1 || scripts/ensure-system-packages.sh wrk
	$(PY) -m bench $(BENCH)

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) $(TOOLS_VENV) $(MOTO_PYPY_VENV) var build .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
