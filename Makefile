# Two commands on a fresh machine: `make run` and `make test` (see README.md); `make demo`
# loads a demo data set.
PYTHON ?= python3.11
# honcho would give the web process PORT=5000 when it is unset; the README promises 8000.
export PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run demo test bench bench-postgres loadtest lint typecheck format migrate-check clean screenshots

# run and demo are development (runserver, the sandbox, the development keys), which the
# settings refuse unless DEBUG is on: it is off by default, so that production fails closed.
run demo: export DEBUG = 1

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

# Without a real LinkedIn app (LINKEDIN_CLIENT_ID), the local LinkedIn sandbox runs beside the
# web server and the worker, and the app talks to it instead of linkedin.com.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_schedules
	$(PY) manage.py create_first_admin
	@if [ -z "$$LINKEDIN_CLIENT_ID" ]; then \
		echo "No LINKEDIN_CLIENT_ID set: starting the local LinkedIn sandbox (LINKEDIN_SANDBOX=1)."; \
		$(PY) manage.py seed_demo --hint; \
		LINKEDIN_SANDBOX=1 $(VENV)/bin/honcho start -f Procfile; \
	else \
		$(VENV)/bin/honcho start -f Procfile web worker; \
	fi

# The first-run demo (README): six weeks of an invented team's work, its LinkedIn accounts
# connected to the sandbox. Before `make run` or beside it: it uses the sandbox that answers on
# LINKEDIN_SANDBOX_URL, or runs one while it loads; the sandbox's state file keeps the tokens
# for `make run`. DEMO_ARGS passes options on, e.g. DEMO_ARGS="--contacts 500".
demo: $(VENV)/.installed
	@if [ -n "$$LINKEDIN_CLIENT_ID" ]; then \
		echo "The demo's accounts live in the local LinkedIn sandbox, which make run starts only without LINKEDIN_CLIENT_ID: unset it."; \
		exit 1; \
	fi
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_schedules
	$(PY) manage.py create_first_admin
	LINKEDIN_SANDBOX=1 $(PY) manage.py seed_demo --full --start-sandbox $(DEMO_ARGS)

# The line coverage of the product's code comes last (README quotes it); the tests' own exit
# status is what counts. The tests run in one process per CPU (pytest-xdist; each has its own
# test database): TEST_WORKERS=0 runs them in this process, e.g. to debug one with pdb.
TEST_WORKERS ?= auto
test: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --cov --cov-report= $(PYTEST_ARGS)
	@echo "Coverage: $$($(VENV)/bin/coverage report --format=total)% of the product's lines."

# The README's screenshots (docs/screenshots/), taken from the demo in a throwaway database.
screenshots: $(VENV)/.installed-dev
	$(PY) docs/screenshots.py

bench: $(VENV)/.installed-dev
	$(PY) tests/perf/run.py

# The contact list and dashboard benchmarks on PostgreSQL, with the same budgets. Each gets the
# database BENCH_DATABASE_URL names dropped and created afresh (through the server's `postgres`
# database), so name a throwaway one:
#   make bench-postgres BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench
# BENCH="contact_list" runs some of them only.
BENCH ?= contact_list dashboard
bench-postgres: $(VENV)/.installed-dev
	@url="$(BENCH_DATABASE_URL)"; name="$${url##*/}"; \
	if [ -z "$$url" ] || [ "$$name" = postgres ]; then \
		echo "Set BENCH_DATABASE_URL=postgres://user@host:5432/name, a throwaway database."; exit 1; \
	fi; \
	status=0; for bench in $(BENCH); do \
		psql -q "$${url%/*}/postgres" -c "DROP DATABASE IF EXISTS \"$$name\"" -c "CREATE DATABASE \"$$name\"" || exit 1; \
		$(PY) tests/perf/run.py $$bench || status=1; \
	done; exit $$status

# gunicorn (gunicorn.conf.py) under 8, 16 and 32 simulated members for 20 s each: requests per
# second and response times per page. LOADTEST_DATABASE_URL for PostgreSQL (tests/perf/loadtest.py).
loadtest: $(VENV)/.installed-dev
	$(PY) tests/perf/loadtest.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs: pyproject.toml says which code is checked, and which strictly.
typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate-check: $(VENV)/.installed-dev
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) data
