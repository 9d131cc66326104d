# Two commands for a fresh Debian machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test install system-deps bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	HEARTH_DATA_DIR=$${HEARTH_DATA_DIR:-$(CURDIR)/data} $(VENV)/bin/hearth

# redis-server and Chromium come from Debian's packages; installed when missing.
system-deps:
	@scripts/system-deps.sh

test: install system-deps
	$(PY) -m pytest

bench: install system-deps
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench.run_all

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
