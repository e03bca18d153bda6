# The README's commands. Everything installs into .venv from requirements.lock.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install lint format lock demo chromium serve loadtest postgres-test lighthouse bench

# Serve the local demo on http://127.0.0.1:8000 (DEBUG on: never for production).
run: demo
	DEBUG=true $(MANAGE) runserver 127.0.0.1:8000

# Migrate and load the demo content and demo staff logins (idempotent).
demo: install
	DEBUG=true $(MANAGE) migrate --noinput
	DEBUG=true $(MANAGE) load_demo_content
	DEBUG=true $(MANAGE) load_demo_requests

# The whole test suite, browser tests included.
test: install chromium
	$(BIN)/python -m pytest

# The whole suite against a throwaway PostgreSQL cluster on 127.0.0.1 (installs
# Debian's postgresql when missing; the cluster is deleted afterwards).
postgres-test: install chromium
	scripts/with-postgres.sh $(BIN)/python -m pytest

# Production: static files, then gunicorn with gunicorn.conf.py (DEBUG off unless set).
# Needs the production settings in the environment (see .env.example and README).
serve: install
	@missing=""; \
	for name in SECRET_KEY ALLOWED_HOSTS DATABASE_URL; do \
		[ -n "$${!name:-}" ] || missing="$$missing $$name"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make serve is for production: set$$missing in the environment (see .env.example)." >&2; \
		echo "For the local demo, use make run." >&2; \
		exit 1; \
	fi; \
	case "$${DEBUG:-false}" in [Ff]alse|0|no|off|"") ;; *) \
		echo "make serve refuses DEBUG=$$DEBUG: production runs with DEBUG=false." >&2; \
		exit 1;; \
	esac
	DEBUG=$${DEBUG:-false} $(MANAGE) collectstatic --noinput
	DEBUG=$${DEBUG:-false} exec $(BIN)/gunicorn --config gunicorn.conf.py

# Load and crash test (gunicorn on 127.0.0.1, 1000 submissions from 64 clients, then
# kill -9 mid-load): on SQLite, then on a throwaway PostgreSQL cluster.
loadtest: install
	$(BIN)/python scripts/loadtest.py --database sqlite
	scripts/with-postgres.sh $(BIN)/python scripts/loadtest.py --database postgres

# Benchmarks on 127.0.0.1 (server time, SQL queries, throughput with wrk, page weight
# with Chromium), then the front desk's worklist with 100,000 requests on SQLite and on
# a throwaway PostgreSQL cluster: prints tables and writes them to bench/. Installs
# Debian's wrk when missing. A short run of the first: make bench BENCH_ARGS=--quick
bench: install chromium
	@command -v wrk >/dev/null || { \
		echo "Installing wrk for the benchmarks (apt-get)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_queue.py --database sqlite
	scripts/with-postgres.sh $(BIN)/python scripts/bench_queue.py --database postgres

# Lighthouse (mobile) on the home, procedure and consultation pages, against gunicorn
# on 127.0.0.1 with production settings: prints the four scores per page, fails below
# 100. lighthouse goes into .lighthouse/ (git-ignored) at this version, the newest
# that runs on the machines' Node.js 20 (13.x needs Node.js 22); Debian's Chromium.
LIGHTHOUSE_VERSION := 12.8.2
lighthouse: install chromium
	@command -v npm >/dev/null || { \
		echo "Installing Node.js and npm for lighthouse (apt-get)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	@[ "$$(.lighthouse/node_modules/.bin/lighthouse --version 2>/dev/null)" = "$(LIGHTHOUSE_VERSION)" ] || \
		npm install --prefix .lighthouse --save-exact --no-audit --no-fund --loglevel=error \
			lighthouse@$(LIGHTHOUSE_VERSION)
	$(BIN)/python scripts/lighthouse.py

# The browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Chromium for the browser tests (apt-get)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

# Re-pin every dependency after changing pyproject.toml. The lock names no package
# index: pip takes it from the machine's own configuration (pip.conf, PIP_INDEX_URL).
lock: install
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
