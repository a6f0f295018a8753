# One virtual environment in .venv, made on first use; every target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run demo test test-all lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

run: $(BIN)/.installed          ## run the bot (SQLite in ./data unless QUOLUM_DATABASE_URL is set)
	$(BIN)/quolum-bot serve

demo: $(BIN)/.installed         ## try it without any account: the whole story against local stand-ins
	$(BIN)/quolum-bot demo $(ARGS)

test: $(BIN)/.installed         ## run the tests (PostgreSQL too when QUOLUM_TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest -q

test-all: $(BIN)/.installed     ## the full run CI makes: installs Chromium and faketime, starts PostgreSQL (root, Debian)
	QUOLUM_TEST_POSTGRES_URL=$$(scripts/test-services quolum_test) $(BIN)/python -m pytest -q
	QUOLUM_TEST_POSTGRES_URL=$$(scripts/test-services quolum_test) FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+400d' $(BIN)/python -m pytest -q

lint: $(BIN)/.installed          ## ruff, and the import contracts in pyproject.toml ([tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

bench: $(BIN)/.installed        ## performance benchmarks (print figures)
	$(BIN)/python benchmarks/slash_command_latency.py
	$(BIN)/python benchmarks/aggregate_page.py
	$(BIN)/python benchmarks/http_stack.py

clean:
	rm -rf $(VENV) .pytest_cache
