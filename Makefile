# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs in parallel, a test file per worker (module-scoped servers stay shared); many tests
# wait on subprocesses and sockets, so one worker more than the cores keeps them busy.
# `make test PYTEST_ARGS="-n 0 tests/delivery"` runs a part serially.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
PYTEST_ARGS ?= -n $(TEST_WORKERS) --dist loadfile

.PHONY: install install-test run example-frontend test test-long lint typecheck check bench-delivery bench-assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Idempotent: pip only re-resolves when pyproject.toml changed since the last install. pip prints
# what it collects and a progress bar, so the first, longer run is never silent.
PIP_INSTALL := $(BIN)/pip install --disable-pip-version-check --progress-bar on

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing Charter and its dependencies into $(VENV) (the first run takes ~2 min; later runs start at once)..."
	$(PIP_INSTALL) -e .
	touch $@

# The test venv has the embeddings extra, so dense retrieval is tested. torch is installed on its own first,
# pinned: pip takes the CPU wheel of that exact release from the machine's wheel folder, where a bare or
# ranged `torch` (asked for by sentence-transformers) would resolve to a multi-GB CUDA build.
TORCH := torch==2.13.0

$(VENV)/.installed-test: pyproject.toml Makefile | $(BIN)/python
	@echo "Installing Charter with its test and embeddings extras into $(VENV) (the first run takes a few minutes)..."
	$(PIP_INSTALL) '$(TORCH)'
	$(PIP_INSTALL) -e '.[test,embeddings]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed: browser tests will skip"; \
	  else echo "chromium not found (apt-get install chromium): browser tests will skip"; fi; }
	@[ -n "$$(ls /usr/lib/*/varnish/vmods/libvmod_xkey.so /usr/lib/varnish/vmods/libvmod_xkey.so 2>/dev/null)" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq varnish varnish-modules >/dev/null) || echo "varnish could not be installed: edge tests will skip"; \
	  else echo "varnishd not found (apt-get install varnish varnish-modules): edge tests will skip"; fi; }
	@# The other CMSs behind the delivery API (docs/sources.md), from the npm registry into ~/.cache/charter-vendors;
	@# the first install compiles native modules (minutes). A failure only makes their tests skip.
	@command -v npm >/dev/null 2>&1 && $(BIN)/python -m tests.vendors install \
	  || echo "npm or a vendor CMS is unavailable: the Directus/Strapi source tests will skip"

run: install
	$(BIN)/charter serve --demo --host $(HOST) --port $(PORT)

# The example front end (examples/frontend/README.md) on http://localhost:8080, reading `make run`'s Charter.
EXAMPLE := examples/frontend
example-frontend: install
	$(BIN)/charter types generate --demo --package lumen-content --out $(EXAMPLE)/client
	$(BIN)/charter tokens build charter/demo/tokens --out $(EXAMPLE)/.tokens
	cp $(EXAMPLE)/.tokens/css/lumen-global-light.css $(EXAMPLE)/tokens.css
	$(BIN)/python -m http.server 8080 --bind 127.0.0.1 --directory $(EXAMPLE)

test: install-test
	$(BIN)/ruff check charter tests bench
	$(BIN)/ruff format --check charter tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite plus the long property runs (CHARTER_LONG_RUNS=1), for a quiet machine or a nightly job.
test-long: install-test
	CHARTER_LONG_RUNS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check charter tests bench
	$(BIN)/ruff format --check charter tests bench

typecheck:
	$(BIN)/mypy

bench-delivery: install-test
	bench/delivery/run

bench-assets: install-test
	bench/assets/run

clean:
	rm -rf $(VENV) .charter-demo .pytest_cache .mypy_cache .ruff_cache $(EXAMPLE)/client $(EXAMPLE)/.tokens $(EXAMPLE)/tokens.css
