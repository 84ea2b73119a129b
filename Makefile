# Front door of the Brede Welvaart Monitor. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-slow test-all dev lint lock bench clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv with the locked dependencies

demo: setup  ## build the demo mirror and warehouse from synthetic data, and print where the results are
	$(BIN)/bwm demo

test: setup  ## the default (fast) test suite, as CI runs it
	$(BIN)/python -m pytest

test-slow: setup  ## only the slow suites
	$(BIN)/python -m pytest -m slow

dev: setup  ## the Dagster UI with this code location, on http://127.0.0.1:3000
	$(BIN)/bwm dev

lock:  ## regenerate requirements.lock from pyproject.toml (needs uv: pip install uv)
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:  ## remove generated data (demo mirror, warehouse, Dagster home); keeps .venv
	rm -rf data/mirror data/warehouse data/dagster_home data/site data/exports
