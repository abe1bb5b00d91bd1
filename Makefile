# Two commands do all the set-up: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INTEGRATIONS := $(wildcard integrations/*/pyproject.toml)

.PHONY: demo test lint typecheck pytest bench bench-all clean browser

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "agentlog needs Python 3.10+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(INTEGRATIONS)
	$(BIN)/python -m pip install --quiet -e ".[dev]" $(foreach p,$(INTEGRATIONS),-e "$(dir $(p))[test]")
	@touch $(STAMP)

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[server]"
	$(BIN)/python examples/quickstart.py

lint: $(STAMP)
	$(BIN)/ruff check src tests integrations examples benchmarks
	$(BIN)/ruff format --check src tests integrations examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The UI's browser tests drive Debian's chromium through Playwright (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "make browser: $(CHROMIUM) is missing; as root: apt-get install chromium"; fi; \
	fi

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 tests $(foreach p,$(INTEGRATIONS),$(dir $(p))tests)

test: lint typecheck pytest

# The core SDK's figures (issue 2).
bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/throughput.py

# Every benchmark: store and collector need PostgreSQL at 127.0.0.1:5432 (user postgres, db test).
bench-all: bench
	$(BIN)/python benchmarks/store_bench.py
	$(BIN)/python benchmarks/pg_index_cost.py
	$(BIN)/python benchmarks/spool_drain.py
	$(BIN)/python benchmarks/openai_overhead.py
	$(BIN)/python integrations/langchain/benchmarks/overhead.py
	$(foreach b,$(wildcard benchmarks/collector_*.py),$(BIN)/python $(b);)

clean:
	rm -rf $(VENV) .agentlog .mypy_cache .ruff_cache
