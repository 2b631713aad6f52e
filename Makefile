# The README's commands. Each one creates or reuses the virtual environment in .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
HOME_DIR ?= $(or $(VIDSEARCH_HOME),$(CURDIR)/.vidsearch)

.PHONY: setup demo test lint bench

setup:
	@scripts/bootstrap.sh

# Index the package-shipped sample footage on the embedded default, then serve search over it.
demo: setup
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch samples >/dev/null
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch ingest $(HOME_DIR)/samples --wait
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch videos
	@echo; echo '$$ vidsearch search "a cup of coffee"'
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch search "a cup of coffee"
	@echo; echo "serving search on http://127.0.0.1:8000 (try /search?q=espresso and /docs); Ctrl-C stops"
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch api --host 127.0.0.1 --port $(or $(PORT),8000)

# The whole test suite: unit tests, real-weight tests, PostgreSQL + Redis + Celery worker tests.
test: setup lint
	@$(PY) -m pytest -q

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check . >/dev/null || (echo "ruff format would change files: run $(VENV)/bin/ruff format ." && exit 1)
	@$(VENV)/bin/mypy

bench: setup
	@$(PY) bench/ingest.py
