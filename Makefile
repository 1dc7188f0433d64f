PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
DEMO_PASSWORD ?= demo
PYTEST_ARGS ?=
# The suite runs in parallel processes (pytest-xdist), one test module per process at a time so
# that a module's browser and server fixtures are started once; PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2

.PHONY: install run test services chromium dovecot migrate seed check-deploy bench bench-quick clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

## make run: migrate, seed the demo accounts and serve http://127.0.0.1:8000
## (with MAIL_RECEIVER_PORT=2525 also the SMTP receiver on 127.0.0.1:2525 for desk@localhost)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --password "$(DEMO_PASSWORD)"
	@echo "Demo accounts alice, erin (end users), bob (agent), carol (manager), dave (admin); password: $(DEMO_PASSWORD)"
	$(PY) -m servicedesk.run

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

dovecot:
	@test -x /usr/sbin/dovecot || { \
	  echo "installing Debian's dovecot-imapd for the mail intake tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }

services:
	@pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; \
	  echo "PostgreSQL or Redis did not come up on 127.0.0.1" >&2; exit 1

## make test: the whole suite on real PostgreSQL, Redis, Celery, ASGI servers and Chromium
test: install node_modules/.installed chromium dovecot services
	DJANGO_SETTINGS_MODULE=servicedesk.settings.test $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

check-deploy: install
	DJANGO_SETTINGS_MODULE=servicedesk.settings.production $(PY) manage.py check --deploy --fail-level WARNING

## make bench: datasets S and M, every benchmark, peers in the same run; writes bench/REPORT.md
## (own databases servicedesk_bench*, Redis REDIS_URL under prefix CHANNEL_PREFIX; never part of make test)
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/0
BENCH_CHANNEL_PREFIX ?= bench
ARGS ?=
bench: install services
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	REDIS_URL=$(BENCH_REDIS_URL) CHANNEL_PREFIX=$(BENCH_CHANNEL_PREFIX) $(PY) bench/run_all.py $(ARGS)

## make bench-quick: the same at dataset S only (fewer sockets, shorter load runs)
bench-quick:
	$(MAKE) bench ARGS=--quick

clean:
	rm -rf $(VENV) node_modules var staticfiles
