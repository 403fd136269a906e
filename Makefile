# Docstore: `make run` starts the app with a demo office; `make test` sets up and runs the whole test suite.
# Everything the project needs is installed here: a virtual environment with pinned packages, the front-end
# assets from npm, (for the browser tests) Debian's Chromium, and (for PDF export and the Word tests) LibreOffice.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
# The PostgreSQL server the second test run uses (a fresh database is created in it and dropped after).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
DEMO_ADMIN_PASSWORD ?= docstore-admin

.PHONY: setup run serve test test-sqlite test-postgres lint browser office bench translations clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed node_modules/.installed  ## Install Python packages and front-end assets; compile translations.
	$(FLASK) translations compile

run: setup  ## Create/upgrade the SQLite database, load the demo office and start the development server.
	$(FLASK) init --admin-password "$(DEMO_ADMIN_PASSWORD)"
	$(FLASK) demo
	@echo "Docstore runs at http://$(HOST):$(PORT)/ - sign in as admin / $(DEMO_ADMIN_PASSWORD)"
	DOCSTORE_SECURE_COOKIES=$${DOCSTORE_SECURE_COOKIES:-0} $(FLASK) run --host $(HOST) --port $(PORT)

serve: setup  ## Production-style serving with gunicorn (4 workers); put TLS in front of it.
	$(FLASK) init
	$(BIN)/gunicorn --workers 4 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

browser:  ## Install Debian's Chromium for the browser tests when it is missing.
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium fonts-noto-cjk'" >&2; exit 1; \
	  fi; }

office:  ## Install LibreOffice Writer (headless) and poppler when missing: PDF export, and the Word format tests.
	@command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      libreoffice-writer-nogui poppler-utils fonts-noto-cjk >/dev/null; \
	  else \
	    echo "The Word tests need LibreOffice: run 'sudo apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk'" >&2; exit 1; \
	  fi; }

test: setup browser office lint  ## The whole suite: on SQLite, then on PostgreSQL.
	$(BIN)/pytest
	DOCSTORE_TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest

test-sqlite: setup browser office  ## The whole suite on SQLite only.
	$(BIN)/pytest

test-postgres: setup browser office  ## The whole suite on PostgreSQL only.
	DOCSTORE_TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

translations: $(BIN)/.installed  ## Re-extract the marked texts into messages.pot and merge them into the es and zh_Hans catalogues.
	$(BIN)/pybabel extract --width 120 -F babel.cfg -k N_ -k _l -k lazy_gettext --ignore-dirs=".* ._ node_modules instance" \
	  --project=Docstore --add-comments=Translators: -o docstore/translations/messages.pot .
	$(BIN)/pybabel update --width 120 -i docstore/translations/messages.pot -d docstore/translations --ignore-obsolete

bench: setup  ## Run the benchmarks (they print figures; nothing is asserted).
	@set -e; for script in bench/bench_*.py; do $(BIN)/python "$$script"; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache test-artifacts
