# verbonden: `make run` serves a demo on http://127.0.0.1:8000, `make test` runs every test.
# Needs only Python >= 3.11 and make; uv is installed into .tools/ when it is not on the PATH.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON ?= $(shell command -v $(PYTHON))

.PHONY: install run test lint bench clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

$(BIN)/verbonden: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(BIN)/verbonden  ## create .venv with the locked versions

run: install  ## migrate the SQLite database, load demo data, serve
	$(BIN)/verbonden db upgrade
	$(BIN)/verbonden demo
	$(BIN)/verbonden serve

test: install  ## every test (PostgreSQL too when VERBONDEN_TEST_DATABASE_URL is set)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app instrument psychometrics tests bench
	$(BIN)/mypy app instrument psychometrics

bench: install  ## benchmarks under bench/, printed as a table and written to bench/results.json
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:  ## remove the environment, caches and local data
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache data test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
