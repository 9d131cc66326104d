# Two commands for a fresh Debian machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HASH   := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
RUN_STAMP  := $(VENV)/.run-$(HASH)
DEV_STAMP  := $(VENV)/.dev-$(HASH)

.PHONY: run test check install install-dev system-deps bench soak lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# What running needs, and nothing more.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	rm -f $(VENV)/.run-*
	touch $@

# What testing, linting and benchmarking need on top.
$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.dev-* $(VENV)/.run-*
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

run: install
	HEARTH_DATA_DIR=$${HEARTH_DATA_DIR:-$(CURDIR)/data} $(VENV)/bin/hearth

# redis-server and Chromium come from Debian's packages; installed when missing.
system-deps:
	@scripts/system-deps.sh

# Everything: lint-free code is checked separately by `make lint` (CI runs both).
test: install-dev system-deps
	$(PY) -m pytest

# Day-to-day: lint plus every test but the real-time and browser ones.
check: lint system-deps
	$(PY) -m pytest -q -n 2 -m "not slow and not browser"

# Node's socket.io (bench/node, pinned by its package-lock.json) is the anchor every figure is divided by.
bench: install-dev system-deps
	$(PY) -m pip install --quiet -e '.[bench]'
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	$(PY) -m bench.run_all

# Two processes on Redis, 1,000 sockets, 50 rooms, 10 min (SOAK_SECONDS=120 for a short run):
# fails when RSS, file descriptors or tasks drift by more than 10 % (docs/OPERATIONS.md).
soak: install-dev system-deps
	$(PY) -m bench.soak

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
