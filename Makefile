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

test: $(BIN)/.installed         ## run the tests in parallel (PostgreSQL too when QUOLUM_TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

test-all: $(BIN)/.installed     ## the full run CI makes: installs Chromium and faketime, starts PostgreSQL (root, Debian)
	QUOLUM_TEST_POSTGRES_URL=$$(scripts/test-services quolum_test) $(BIN)/python -m pytest -q $(PYTEST_PARALLEL)
	QUOLUM_TEST_POSTGRES_URL=$$(scripts/test-services quolum_test) FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+400d' $(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

lint: $(BIN)/.installed          ## ruff, and the import contracts in pyproject.toml ([tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint Dockerfile

bench: $(BIN)/.installed        ## performance benchmarks (print figures)
	$(BIN)/python benchmarks/slash_command_latency.py
	$(BIN)/python benchmarks/aggregate_page.py
	$(BIN)/python benchmarks/http_stack.py

clean:
	rm -rf $(VENV) .pytest_cache

# --- tests in parallel, generated docs (issue 27: 8, 12) ---
# pytest-xdist workers; each gets its own PostgreSQL database (<db>_gw0, ...), ports and tmp dirs
# (tests/conftest.py). More workers than cores pays: much of the suite waits on sockets, subprocesses and
# real-clock timers. TEST_WORKERS=0 runs in this one process, e.g. to use a debugger.
TEST_WORKERS ?= 4
PYTEST_PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist load)

.PHONY: readme
readme: $(BIN)/.installed       ## rewrite README.md's generated parts and .env.example (scripts/readme.py)
	$(BIN)/python scripts/readme.py
