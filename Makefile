# The README's commands. Everything installs into .venv: production from requirements.lock,
# the tests and tools from requirements-dev.lock (the same pins plus the dev tools).
SHELL := /bin/bash
# The first of these that is a Python pyproject.toml's requires-python admits (3.11 to
# 3.13), 3.11 first: the locks are compiled on it. make PYTHON=... picks another.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null && \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info < (3, 14))' && \
	{ command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install lint format lock messages demo chromium redis nginx multihost serve loadtest postgres-test lighthouse bench

# Serve the local demo on http://127.0.0.1:8000 with the task worker next to it, so a
# request's notification is sent (to the console); Ctrl-C stops both (DEBUG on: never
# for production).
run: demo
	DEBUG=true $(BIN)/python scripts/run-demo.py 127.0.0.1:8000

# Migrate and load the demo content and demo staff logins (idempotent).
demo: install
	DEBUG=true $(MANAGE) migrate --noinput
	DEBUG=true $(MANAGE) load_demo_content
	DEBUG=true $(MANAGE) load_demo_requests

# The whole test suite, browser tests included. DEBUG=true: the settings module's
# development branch, as before (tests that check production settings set their own).
test: install-dev chromium redis nginx
	DEBUG=true $(BIN)/python -m pytest

# The whole suite against a throwaway PostgreSQL cluster on 127.0.0.1 (installs
# Debian's postgresql when missing; the cluster is deleted afterwards).
postgres-test: install-dev chromium redis nginx
	DEBUG=true scripts/with-postgres.sh $(BIN)/python -m pytest

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
loadtest: install-dev
	$(BIN)/python scripts/loadtest.py --database sqlite
	scripts/with-postgres.sh $(BIN)/python scripts/loadtest.py --database postgres

# Benchmarks on 127.0.0.1 (server time, SQL queries, throughput with wrk, page weight
# with Chromium), then the shipped nginx site's micro-cache against nginx serving the
# same page as a file, and gunicorn's worker recycling (scripts/bench_nginx.py), then the
# front desk's worklist with 100,000 requests on SQLite and on a throwaway PostgreSQL
# cluster: prints tables and writes them to bench/. Installs Debian's wrk and nginx when
# missing. A short run of the first two: make bench BENCH_ARGS=--quick
bench: install-dev chromium nginx
	@command -v wrk >/dev/null || { \
		echo "Installing wrk for the benchmarks (apt-get)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_nginx.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_queue.py --database sqlite
	scripts/with-postgres.sh $(BIN)/python scripts/bench_queue.py --database postgres

# Lighthouse (mobile) on the home, procedure and consultation pages, against gunicorn
# on 127.0.0.1 with production settings: prints the four scores per page, fails below
# 100. lighthouse goes into .lighthouse/ (git-ignored) at this version, the newest
# that runs on the machines' Node.js 20 (13.x needs Node.js 22); Debian's Chromium.
LIGHTHOUSE_VERSION := 12.8.2
lighthouse: install-dev chromium
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

# Two app hosts (gunicorn) sharing a throwaway PostgreSQL cluster and Redis: an editor's
# save through one host shows through the other at once, both keep serving with Redis
# stopped, and 1,000 requests over both are all stored once (scripts/multihost.py).
multihost: install-dev redis
	scripts/with-postgres.sh $(BIN)/python scripts/multihost.py

# The deployment tests (tests/test_deploy.py) and make bench run the shipped nginx site
# (deploy/nginx) on 127.0.0.1 with Debian's nginx, and openssl for its test certificate;
# the tests check the systemd units with systemd-analyze; install them when missing.
# (Debian's package may also start a system nginx on port 80: harmless, nothing here
# uses it.)
nginx:
	@command -v nginx >/dev/null && command -v openssl >/dev/null && \
		command -v systemd-analyze >/dev/null || { \
		echo "Installing nginx, openssl and systemd for the deployment tests (apt-get)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx openssl systemd >/dev/null; }

# The shared page cache's tests run a real redis-server (Debian's); install it when
# it is missing.
redis:
	@command -v redis-server >/dev/null || { \
		echo "Installing Redis for the tests (apt-get)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server >/dev/null; }

# The patients' words in Spanish: collect the marked strings (templates and the Python
# files locale/babel.cfg names), merge them into locale/es/LC_MESSAGES/django.po (new ones
# empty, changed ones marked fuzzy) and compile django.mo (scripts/messages.py). Then
# translate what is empty or fuzzy; make test fails until none is.
messages: install-dev
	$(BIN)/python scripts/messages.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production: the production lock only (make serve, make run and production hosts).
install: $(VENV)/.installed

# The tests and tools (pytest, Playwright, ruff, moto, pip-tools...): the dev lock, which
# holds every production pin unchanged plus the dev tools.
install-dev: $(VENV)/.installed-dev
.PHONY: install-dev

# A stamp is touched once its lock is installed, so pip runs again only when that lock
# changes. Two stamps, so that a .venv made by make install gets the dev tools at the next
# make test. Back again, make install changes nothing a production run needs (the dev lock
# has the same pins); the dev tools stay in .venv, which only a production host must not
# have, and a production host never installs the dev lock.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

$(BIN)/python:
	@[ -n "$(PYTHON)" ] || { \
		echo "No Python 3.11, 3.12 or 3.13 found: install python3.11 (and python3.11-venv)," \
			"or run make PYTHON=/path/to/python3.x" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Re-pin after changing pyproject.toml: the production lock first, then the dev lock held
# to its pins (--constraint), so both install the same version of every shared package.
# The locks name no package index: pip takes it from the machine's own configuration
# (pip.conf, PIP_INDEX_URL). make lock LOCK_ARGS=--upgrade moves to the newest releases.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: install-dev
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock -o requirements-dev.lock \
		pyproject.toml
