# Bleibe: `make run` starts the embedded stack, `make test` runs the whole suite (both on a fresh machine).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help run test lint bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

run: $(VENV)/.installed ## start Temporal dev server, worker and API/UI; Ctrl-C stops all
	@$(BIN)/bleibe run

test: $(VENV)/.installed-test ## install and run the whole test suite (SQLite and, when reachable, PostgreSQL)
	@$(BIN)/python tests/run.py

lint: $(VENV)/.installed-test ## ruff
	$(BIN)/ruff check .

bench: $(VENV)/.installed-test ## benchmarks (print a table; see BENCHMARKS.md)
	$(BIN)/python -m bench

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var
