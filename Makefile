# Two commands matter: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PORT ?= 8000
PLATFORM_PORT ?= 8100
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format install migrate demo bench eval clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is required; set PYTHON=/path/to/python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: migrate
	PORT=$(PORT) PLATFORM_PORT=$(PLATFORM_PORT) $(BIN)/python -m demo_platform.launcher

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The scale benchmark (docs/benchmarks.md): generates the data set into PostgreSQL once per scale,
# about 1,000,000 customers at SCALE=1.0, then serves it with gunicorn and measures the API.
# It is not part of `make test`.
SCALE ?= 1.0
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk_bench
bench: install
	$(BIN)/python -m bench generate --scale $(SCALE) --if-missing
	$(BIN)/python -m bench run

# The Issue Detective's evaluation (docs/evaluation.md): labelled scenarios, the latency of a
# 100,000-interaction customer and the Train Ticket fault windows, on a throwaway database
# (a temporary SQLite file unless DATABASE_URL is set). Writes diagnostics/calibration.json.
eval: install
	$(BIN)/python -m evaluation

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .demo staticfiles
