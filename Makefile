# CareLedger — two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := src/careledger/web/static/vendor/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint format install assets migrate demo bench clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --silent

$(ASSETS): node_modules/.package-lock.json
	mkdir -p src/careledger/web/static/vendor/bootstrap src/careledger/web/static/vendor/bootstrap-icons/fonts src/careledger/web/static/vendor/htmx src/careledger/web/static/vendor/echarts
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js src/careledger/web/static/vendor/bootstrap/
	cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css src/careledger/web/static/vendor/bootstrap-icons/
	cp node_modules/bootstrap-icons/font/fonts/* src/careledger/web/static/vendor/bootstrap-icons/fonts/
	cp node_modules/htmx.org/dist/htmx.min.js src/careledger/web/static/vendor/htmx/
	cp node_modules/echarts/dist/echarts.min.js src/careledger/web/static/vendor/echarts/
	touch $(ASSETS)

assets: $(ASSETS)

migrate: install
	$(BIN)/careledger migrate --noinput

# Bring up the working system on the embedded default (SQLite + filesystem broker) with demo data.
run: install assets migrate
	CARELEDGER_DEMO=1 $(BIN)/careledger seed-demo
	$(BIN)/careledger collectstatic --noinput --verbosity 0
	CARELEDGER_DEMO=1 $(BIN)/careledger serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite, then on PostgreSQL when DATABASE_URL points at one.
test: install assets
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/careledger makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite
	@case "$$DATABASE_URL" in \
	  postgres*) $(MAKE) --no-print-directory test-postgres ;; \
	  *) echo "PostgreSQL leg skipped: DATABASE_URL does not point at PostgreSQL (.ci/run sets one up)." ;; \
	esac

test-sqlite: install assets
	env -u DATABASE_URL CARELEDGER_VAR_DIR=$(CURDIR)/var/test-sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install assets
	@echo "== PostgreSQL leg: $${DATABASE_URL%%@*}@…"
	CARELEDGER_VAR_DIR=$(CURDIR)/var/test-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

messages: install
	cd src/careledger && ../../$(BIN)/careledger compilemessages --ignore=.venv

bench: install
	$(BIN)/python benchmarks/enrol.py

clean:
	rm -rf $(VENV) node_modules src/careledger/web/static/vendor var
