# The README's commands. Each one creates or reuses the virtual environment in .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
HOME_DIR ?= $(or $(VIDSEARCH_HOME),$(CURDIR)/.vidsearch)

.PHONY: setup demo test lint bench

setup:
	@scripts/bootstrap.sh

UI_PORT ?= 8501
API_PORT ?= $(or $(PORT),8000)

# Index the package-shipped sample footage on the embedded default, then serve it: the web UI in
# the foreground, the HTTP API beside it in the background (Ctrl-C stops both).
demo: setup
	@echo "demo: gathering the sample footage that ships in packages into $(HOME_DIR)/samples"
	@n=$$(VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch samples | wc -l); \
	echo "demo: indexing $$n files (once: a second run finds them indexed)"
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch ingest $(HOME_DIR)/samples --wait
	@echo; echo "demo: the library"
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch videos
	@echo; echo 'demo: searching: vidsearch search "a cup of coffee"'
	@VIDSEARCH_HOME=$(HOME_DIR) $(VENV)/bin/vidsearch search "a cup of coffee"
	@export VIDSEARCH_HOME=$(HOME_DIR); \
	$(VENV)/bin/vidsearch api --host 127.0.0.1 --port $(API_PORT) >$(HOME_DIR)/api.log 2>&1 & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	echo; echo "demo: serving"; \
	echo "  web UI:   http://127.0.0.1:$(UI_PORT)   (search, watch, library, add videos)"; \
	echo "  HTTP API: http://127.0.0.1:$(API_PORT)/docs (log: $(HOME_DIR)/api.log)"; \
	echo "  Ctrl-C stops both (UI log: $(HOME_DIR)/ui.log)"; \
	$(VENV)/bin/vidsearch ui --host 127.0.0.1 --port $(UI_PORT) >$(HOME_DIR)/ui.log 2>&1

# The whole test suite: unit tests, real-weight tests, PostgreSQL + Redis + Celery worker tests.
test: setup lint
	@$(PY) -m pytest -q

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check . >/dev/null || (echo "ruff format would change files: run $(VENV)/bin/ruff format ." && exit 1)
	@$(VENV)/bin/mypy

bench: setup
	@$(PY) bench/ingest.py
