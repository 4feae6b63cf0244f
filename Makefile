# PiChat: `make run` serves on :8080, `make test` runs the whole suite.
# Each target creates .venv and installs the pinned requirements when they changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SOCKETIO_CLIENT_VERSION := 4.8.4

.PHONY: run serve test lint audit fuzz bench vendor cluster cluster-stop screenshots clean

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "PiChat necesita Python 3.11 o posterior")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The original PiChat's demo: demo accounts, plain HTTP on :8080. `python app.py` alone is
# production (HTTPS from a local CA, a one-time setup link for the first administrator).
run: $(VENV)/.runtime
	PICHAT_ENV=development $(PY) app.py

# Live-server tests that open the SQLite file themselves, or bring their own PostgreSQL:
# left out of the PostgreSQL pass below.
NOT_ON_POSTGRES := --ignore=tests/reliability/test_faults.py \
  --ignore=tests/reliability/test_faults_database.py --ignore=tests/reliability/test_faults_disk.py \
  --ignore=tests/reliability/test_faults_scan.py --ignore=tests/reliability/test_load.py \
  --ignore=tests/test_chat_history_live.py --ignore=tests/reliability/test_cluster_postgres.py

# The whole suite under eventlet (the default), then the live-server integration tests
# again under gevent, so both async modes stay supported, and once more on the machine's
# PostgreSQL (127.0.0.1:5432, PICHAT_TEST_POSTGRES_URL): a fresh database per server.
test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m pytest
	PICHAT_ASYNC_MODE=gevent $(PY) -m pytest -m "live and not e2e"
	PICHAT_TEST_POSTGRES=1 $(PY) -m pytest -m "live and not e2e" $(NOT_ON_POSTGRES)

lint: $(VENV)/.dev
	$(PY) -m ruff check .

# Production on this machine, with nothing configured: HTTPS on :8080 from a local CA.
serve: $(VENV)/.runtime
	PICHAT_ENV=production $(PY) app.py

# The Hypothesis fuzz of every event and route, 20 times longer than in `make test` and
# with a new random seed each run.
fuzz: $(VENV)/.dev
	PICHAT_FUZZ_EXAMPLES=20 $(PY) -m pytest -q tests/reliability/test_fuzz.py

# pip-audit checks the pinned requirements against PyPI's advisory data. Where that data
# cannot be reached (an offline LAN), it skips every package: say so plainly, never "clean".
audit: $(VENV)/.dev
	@log=$$(mktemp); $(PY) -m pip_audit -r requirements.txt --progress-spinner off >$$log 2>&1; \
	  status=$$?; cat $$log; skipped=$$(grep -c "could not be audited" $$log); rm -f $$log; \
	  if [ "$$skipped" -gt 0 ]; then \
	    echo "make audit: $$skipped paquetes sin comprobar: no se pudo consultar la base de avisos (¿sin Internet?)."; \
	    exit 1; fi; exit $$status

# nginx in front of CLUSTER_PROCESSES (2) PiChat processes on this machine, all sharing
# DATABASE_URL (PostgreSQL) and REDIS_URL from the environment: README, "Escalar".
cluster: $(VENV)/.runtime
	deploy/cluster.sh start

cluster-stop:
	deploy/cluster.sh stop

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

# The README's chat screenshots, from a real server in Debian's chromium.
screenshots: $(VENV)/.dev
	$(PY) docs/make_screenshots.py

# Refresh the vendored Socket.IO browser client (the LAN has no CDN).
vendor:
	cd $$(mktemp -d) && npm pack --silent socket.io-client@$(SOCKETIO_CLIENT_VERSION) \
	  && tar xzf socket.io-client-$(SOCKETIO_CLIENT_VERSION).tgz \
	  && cp package/dist/socket.io.min.js $(CURDIR)/static/vendor/socket.io.min.js

clean:
	rm -rf $(VENV)
