# tradeguard: `make demo` and `make test` are all a fresh machine needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-data

.PHONY: help venv demo test test-fast lint typecheck bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install tradeguard with the dev extras

demo: $(STAMP)  ## generate synthetic trade, load it into SQLite, train, score, serve the portal
	$(BIN)/tradeguard demo --dir $(DEMO_DIR)

test: $(STAMP)  ## run the whole test suite (PostgreSQL too when TRADEGUARD_TEST_DATABASE_URL is set)
	$(BIN)/pytest -q

test-fast: $(STAMP)  ## the suite without browser and slow tests
	$(BIN)/pytest -q -m "not browser and not slow"

lint: $(STAMP)  ## ruff format check and lint
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)  ## mypy (strict on risk, decisions, revenue)
	$(BIN)/mypy src/tradeguard

bench: $(STAMP)  ## run every benchmark (one JSON line each)
	for b in benchmarks/*.py; do $(BIN)/python $$b; done

clean:  ## remove the virtual environment and demo data
	rm -rf $(VENV) $(DEMO_DIR)
