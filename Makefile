# The two commands of the README: `make run` and `make test`. Everything else is set-up
# they need; each step is idempotent, so running either again is cheap.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint browser demo

# axe-core for the browser tests' accessibility checks (from the npm registry; never served by the app)
AXE := test-deps/node_modules/axe-core/axe.min.js

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## run: install, migrate the SQLite database and serve on http://127.0.0.1:8000
run: $(VENV)/.run-deps
	$(BIN)/python -m server serve

## demo: a demo program with people (passwords printed once) and history; refuses a second time
demo: $(VENV)/.run-deps
	$(BIN)/python -m server demo

## browser: Debian's Chromium for the browser tests (installed when missing and we are root)
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium is not installed: browser tests will skip (or fail where REQUIRE_BROWSER=1)"

# axe-core into test-deps/ (once; needs npm): without it the accessibility tests skip, or fail where REQUIRE_BROWSER=1
$(AXE):
	@command -v npm >/dev/null 2>&1 && \
	  npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error --prefix test-deps axe-core@4 || \
	  echo "could not install axe-core with npm: accessibility tests will skip (or fail where REQUIRE_BROWSER=1)"

## lint: ruff and mypy --strict
lint: $(VENV)/.test-deps
	$(BIN)/ruff check server tests bench
	$(BIN)/mypy

## test: install what the tests need, then lint and run every test
test: $(VENV)/.test-deps browser $(AXE) lint
	@if command -v node >/dev/null 2>&1; then node --test client_web/tests/; else echo "node not found: client unit tests skipped (the browser tests still run)"; fi
	$(BIN)/python -m pytest
