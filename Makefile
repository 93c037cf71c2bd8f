# The README's two commands: `make run` and `make test`. Both start from a bare `python3`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test soak bench lint serve clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## run: migrate the SQLite database (the national village registry with it), load the demo, serve the API
run: $(VENV)/.installed
	$(FLASK) db upgrade
	-$(FLASK) demo seed --base-url http://$(HOST):$(PORT)
	@echo
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C stops it)"
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --log-level warning wsgi:app

## test: lint, then the whole suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: $(VENV)/.installed-test lint
	$(BIN)/pytest

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

## bench: every benchmark figure on SQLite and PostgreSQL (BENCH_SCALE, BENCH_DB, BENCH_RUNS);
## prints a summary, writes docs/benchmarks.md, ends with one line of JSON
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run

## soak: the real-server tests (load, kill -9, feed order, idempotency) at SOAK_FACTOR times the cases
soak: $(VENV)/.installed-test
	SOAK_FACTOR=$${SOAK_FACTOR:-10} $(BIN)/pytest -rP tests/server/test_load_and_crash.py \
		tests/server/test_feed_order.py tests/server/test_idempotency_at_once.py

## translations: gather the pages' messages into the Indonesian catalog (translate the new ones), compile it
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F service/babel.cfg -k _l -k Message --no-location --sort-output -w 110 \
		-o service/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -w 110 \
		-i service/translations/messages.pot -d service/translations
	$(BIN)/pybabel compile --statistics -d service/translations
	rm service/translations/messages.pot

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info
