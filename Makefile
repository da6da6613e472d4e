# The two commands: `make run` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The suite runs on every CPU (pytest-xdist), one test file per worker at a time.
PYTEST_ARGS ?= -n auto --dist loadfile
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test lint format check migrate seed bench-pages clean

help:
	@echo "make run    install, migrate, seed demo data, serve web + worker on http://127.0.0.1:$(PORT)"
	@echo "make test   install, lint, checks, migrations check, whole test suite"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is needed (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,test]"
	@touch $@

run: $(VENV)/.installed-dev
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py setup_schedules
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py seed_demo
	@echo "Serving http://127.0.0.1:$(PORT) (web) and the task worker. Ctrl-C stops both."
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} PYTHONUNBUFFERED=1 PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho --no-prefix -f Procfile.dev start --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not serial"
	@# Real task clusters on the shared Redis queue, and a restart of the shared PostgreSQL
	@# server: these run alone, after everything else.
	$(BIN)/python -m pytest -p no:xdist -m serial

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-pages: $(VENV)/.installed-dev
	$(BIN)/python bench/pages.py
bench-reminders: $(VENV)/.installed-dev ; $(BIN)/python bench/reminders.py $(ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
