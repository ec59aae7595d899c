# The two commands a user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint unit bench clean help

help:
	@echo "make run    create .venv, install kenv and run 'kenv up' (flags: make run ARGS='--skip-preflight')"
	@echo "make test   create .venv with dev tools, lint, and run the whole test suite"
	@echo "make lint   ruff, mypy --strict and the layer contracts"
	@echo "make bench  run the benchmarks in bench/ and print medians"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kenv needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# ARGS go to `kenv up`, e.g. make run ARGS='--skip-preflight --dry-run'. KENV_RUN_BY tells kenv
# to word its advice for make, where flags can only be passed through ARGS.
ARGS ?=
run: $(VENV)/.installed
	KENV_RUN_BY='make run' $(BIN)/kenv up $(ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Two workers keep the suite near half its single-process time on the 2-core machine; a file's
# tests stay on one worker (--dist loadfile), so module fixtures are made once.
PYTEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

unit: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/unit

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/registrations.py
	$(BIN)/python bench/lifecycle.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/serve_events.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
