# One virtual environment in .venv, made on first use; every target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run demo test test-all lint bench clean

# The venv's Python must satisfy pyproject's requires-python (scripts/check-python). A venv made by another
# one (`make demo PYTHON=python3.10` fails half-way, or that Python was removed since) is made again, saying
# so; a $(PYTHON) that does not satisfy it makes no venv at all and the one line says what to run instead.
VENV_STALE := $(if $(shell $(BIN)/python scripts/check-python 2>/dev/null && echo ok),,venv-stale)
MIN_PYTHON := $(shell sed -n 's/^requires-python *= *">=\([0-9.]*\).*/\1/p' pyproject.toml)
RETRY = make: run \`make $(or $(MAKECMDGOALS),demo) PYTHON=python$(MIN_PYTHON)\` (or any Python $(MIN_PYTHON) or newer)

.PHONY: venv-stale
$(BIN)/.installed: pyproject.toml $(VENV_STALE)
	@command -v $(PYTHON) >/dev/null || { echo "make: there is no $(PYTHON) on PATH"; echo "$(RETRY)"; exit 1; }
	@$(PYTHON) scripts/check-python || { echo "$(RETRY)"; exit 1; }
	@if [ -e $(VENV) ] && ! $(BIN)/python scripts/check-python 2>/dev/null; then \
		echo "make: $(VENV) was made by $$($(BIN)/python -V 2>&1 || echo a Python that is gone), making it again"; \
		rm -rf $(VENV); fi
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
	$(BIN)/python benchmarks/contracts_import.py

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
