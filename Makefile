# Front door of the Brede Welvaart Monitor. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser demo test test-real test-slow test-faults test-identity lint bench bench-quick dev lock clean help

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

# The browser tests drive Debian's chromium through Playwright (no browser download) and inject axe-core
# from npm (package-lock.json). Installing chromium needs root (as in CI); otherwise it says what to run.
browser: node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium' (they are skipped until then)."; fi; }

# The site copies plotly.js from node_modules (npm's plotly.js-basic-dist-min, pinned in package-lock.json), so
# every target that builds the site installs it first.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: the site copies plotly.js from node_modules (package-lock.json). Install Node.js and npm ('sudo apt-get install npm'), then run make again."; exit 1; }
	npm ci --silent --no-audit --no-fund
	@touch $@

demo: setup node_modules/.installed  ## build the demo mirror and warehouse from synthetic data, and print where the results are
	$(BIN)/bwm demo

test: setup browser  ## the default (fast) test suite, as CI runs it (browser installs node_modules)
	$(BIN)/python -m pytest

lint: setup  ## ruff over the Python (pyproject.toml [tool.ruff]) and sqlfluff over every SQL file (.sqlfluff); CI runs it
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint pipelines/defs

test-identity: setup node_modules/.installed  ## output identity: the demo built by the pinned reference commit and by this tree publish the same (~1 min)
	$(BIN)/python -m pytest -m identity tests/test_output_identity.py -v

test-real: setup node_modules/.installed  ## the real-data acceptance suite: whole refreshes on ../shared/cbs-real through bwm mirror serve (~5 min)
	$(BIN)/python -m pytest -m acceptance tests/test_real_acceptance.py tests/test_stapeling_real.py -v

test-slow: setup browser  ## only the slow suites
	$(BIN)/python -m pytest -m slow

test-faults: setup node_modules/.installed  ## the fault suite: killed runs, concurrent runs, CBS faults, full disk, read-only folders
	$(BIN)/python -m pytest -m faults tests/faults -v

bench: setup node_modules/.installed  ## benchmarks at national scale (issue 7): ~15 min, prints every figure, writes benchmarks/results/national.json
	$(BIN)/python -m benchmarks

bench-quick: setup node_modules/.installed  ## the same benchmarks at demo scale (3 municipalities), a few minutes; CI runs it so the harness cannot rot
	$(BIN)/python -m benchmarks --quick

dev: setup node_modules/.installed  ## the Dagster UI with this code location, on http://127.0.0.1:3000
	$(BIN)/bwm dev

lock:  ## regenerate requirements.lock from pyproject.toml (needs uv: pip install uv)
	uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --generate-hashes -o requirements.lock

clean:  ## remove generated data (demo mirror, warehouse, Dagster home); keeps .venv
	rm -rf data/mirror data/warehouse data/dagster_home data/site data/exports data/tmp
