# Deskline — `make run` serves the API, `make test` runs lint, types and the whole suite.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
# Byte-compile once: with PYTHONDONTWRITEBYTECODE set (as on this workplace's machines) every Python
# process would otherwise compile every module from source again (~9 s before the app can import).
unexport PYTHONDONTWRITEBYTECODE
# The suite runs every database test on SQLite and on this PostgreSQL (set it empty to skip PostgreSQL).
export DESKLINE_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: install run test bench lint format migrate openapi seed-demo clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/deskline: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode
	@touch $@

install: $(BIN)/deskline

# `make run PORT=8080 HOST=0.0.0.0` serves elsewhere (the walkthroughs then need DESKLINE_URL).
HOST ?= 127.0.0.1
PORT ?= 8000

run: install migrate
	$(BIN)/deskline serve --host $(HOST) --port $(PORT)

migrate: install
	$(BIN)/deskline migrate

openapi: install
	$(BIN)/deskline openapi

seed-demo: install migrate
	$(BIN)/deskline seed-demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two passes: the suite spread over both cores (the browser tests kept together on one, see tests/portal), then the tests that start server processes or
# load the machine (bursts, several processes), alone, so their timings do not share the cores.
test: install lint
	$(BIN)/pytest -n 2 --dist loadgroup -m "not serial"
	$(BIN)/pytest -m serial

# Every benchmark on scratch databases, one table, compared with benchmarks/baseline.json (exit 1 on
# a regression of more than 20 %). BENCH="--only availability" runs some; BENCH=--accept accepts.
bench: install
	$(BIN)/python -m benchmarks.run $(BENCH)

clean:
	rm -rf $(VENV) $(TOOLS) var/*.db var/*.db-*
