# Hotline — the two commands: `make demo` and `make test`. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check lint typecheck contracts pytest setup clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The routing engine runs compiled (mypyc, scripts/compile.py): a C compiler and Python's
# headers are installed when missing; the build is skipped when it matches its sources.
setup: $(VENV)/.installed
	@PYTHON=$(BIN)/python scripts/system-deps.sh compiler
	@$(BIN)/python scripts/compile.py

demo: setup
	scripts/demo.sh

test: setup
	scripts/test.sh

check: setup
	scripts/check.sh

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

contracts: setup
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache build src/hotline/_compiled.json
	find src -name '*.so' -delete
