# Tessera: `make run` serves a demo on http://127.0.0.1:8000; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts frontend/tsconfig.json
MANIFEST := frontend/dist/.vite/manifest.json

.PHONY: help run worker beat test test-backend test-browser test-frontend lint format bench services frontend install clean

help:
	@echo "make run    - set up and serve Tessera on http://$(HOST):$(PORT) (SQLite, in-process tasks)"
	@echo "make worker - a Celery worker (REDIS_URL set); KINDS=quality,neardup for some queues only"
	@echo "make test   - install test dependencies and run lint, frontend, backend and browser tests"
	@echo "make bench  - run the benchmarks; writes bench/results/latest.{json,md}"
	@echo "make lint   - ruff check + format check, import contracts, mypy, task/event contracts, tsc --noEmit"

# --- installation (stamps make a second run start in seconds) --------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt datumaro  # test reader; see pyproject
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt label-studio-sdk  # test reader; see pyproject
	@touch $@

install: $(VENV)/.installed

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(MANIFEST): frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build

frontend: $(MANIFEST)

# --- run ----------------------------------------------------------------------------------------------
run: install frontend
	@mkdir -p var/media
	$(BIN)/python manage.py migrate --noinput -v 0
	TESSERA_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py seed_demo
	CORE_TASKS_IN_THREAD=1 $(BIN)/python -m uvicorn config.asgi:application --host $(HOST) --port $(PORT) --no-server-header --lifespan off \
		--timeout-keep-alive 5 --limit-concurrency 200 --ws-max-size 65536

# A Celery worker for a deployment from a checkout (REDIS_URL and DATABASE_URL set; docs/DEPLOY.md "Queues").
# KINDS=quality,neardup consumes only those kinds' queues; without KINDS, every queue.
worker: install
	CORE_WORKER_KINDS=$(KINDS) $(BIN)/celery -A config worker -l info --without-gossip --without-mingle

beat: install
	$(BIN)/celery -A config beat -l info --schedule var/celerybeat-schedule

# --- test -----------------------------------------------------------------------------------------------
# scripts/test-env prints DATABASE_URL/REDIS_URL for the PostgreSQL and Redis on 127.0.0.1, or fails
# with CI=true when one of them does not answer (never a silent fallback to SQLite in CI).
test: install frontend/node_modules/.installed
	@bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-frontend
	$(MAKE) --no-print-directory frontend
	$(MAKE) --no-print-directory test-backend
	$(MAKE) --no-print-directory test-browser

lint: install frontend/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python scripts/check_contracts.py
	cd frontend && npm run --silent typecheck
	cd frontend && npm run --silent lint

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-frontend: frontend/node_modules/.installed
	cd frontend && npm test --silent

test-backend: install
	@set -euo pipefail; eval "$$(bash scripts/test-env.sh)"; \
	$(BIN)/python -m pytest -m "not browser" --create-db $(PYTEST_ARGS)

test-browser: install frontend
	@set -euo pipefail; eval "$$(bash scripts/test-env.sh)"; \
	$(BIN)/python -m pytest -m browser -p no:cacheprovider --create-db $(PYTEST_ARGS)

# --- bench ----------------------------------------------------------------------------------------------
bench: install frontend
	@set -euo pipefail; eval "$$(bash scripts/test-env.sh --optional)"; \
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf var frontend/dist .pytest_cache .ruff_cache
