# Shijian task runner. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SPARK  := $(VENV)/.spark-stamp

.PHONY: install install-spark demo test format test-sqlite test-postgres lint typecheck bench bench-web bench-ingest bench-draw bench-hazards bench-risk bench-analytics lock messages clean

$(STAMP): requirements/lock.txt pyproject.toml setup.py src/shijian/ingest/_fastcsv.c
	bash scripts/ensure_identity.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## install-spark: the optional Spark engine (`shijian build --engine spark`, ~491 MB); `make test` installs it
$(SPARK): requirements/spark.txt $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/spark.txt
	touch $(SPARK)

install-spark: $(SPARK)

## demo: install, generate + load the Gaoming demo district (first run), serve http://127.0.0.1:8000
demo: install
	$(BIN)/shijian demo

## test: lint, types and migrations check + the suite on SQLite and on PostgreSQL, all at the same time
## (SHIJIAN_TEST_SERIAL=1: one after the other; PostgreSQL skipped, with the reason, if none); tests that cannot
## differ by engine run once (docs/configuration.md: SHIJIAN_TEST_RUN); installs the spark extra so that the Spark
## parity test runs
test: install install-spark
	bash scripts/test.sh

test-sqlite: install install-spark
	bash scripts/test.sh sqlite

test-postgres: install install-spark
	bash scripts/test.sh postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

typecheck: install
	$(BIN)/mypy

## bench: web latency and bulk-load rate at Foshan scale (780k entities, SQLite)
bench: bench-web

bench-web: install
	$(BIN)/shijian bench web --scale foshan

## bench-ingest: 130M departmental records through ingest and build (generates ~27 GB once; ~30 min here)
bench-ingest: install
	$(BIN)/shijian bench ingest --scale foshan

## bench-draw: a Foshan-scale 双随机 batch (780k candidates, ~31k visits, 2,000 officers) frozen, drawn, staffed
bench-draw: install
	$(BIN)/shijian bench draw

## bench-hazards: the hazard library's list and dashboards with 500k entries (reuses the bench-draw world)
bench-hazards: install
	$(BIN)/shijian bench hazards

## bench-risk: the risk model at 780k entities (40M-record district built once in var/bench/risk)
bench-risk: install
	$(BIN)/shijian bench risk

## bench-analytics: dashboard figures and pages at Foshan scale (after bench-ingest)
bench-analytics: install
	$(BIN)/shijian bench analytics

## lock: re-pin every dependency from pyproject.toml into requirements/lock.txt
lock:
	rm -rf /tmp/shijian-lock && $(PYTHON) -m venv /tmp/shijian-lock
	/tmp/shijian-lock/bin/pip install --quiet -e ".[dev]"
	/tmp/shijian-lock/bin/pip freeze --exclude-editable | grep -v '^shijian' > requirements/lock.txt
	/tmp/shijian-lock/bin/pip install --quiet -e ".[spark]"
	/tmp/shijian-lock/bin/pip freeze --exclude-editable | grep -v '^shijian' | grep -vxFf requirements/lock.txt \
	  | sed '1i # The spark extra (shijian[spark]), pinned: `make test` installs it so that CI runs the Spark parity test.' \
	  > requirements/spark.txt

## messages: compile translations (.po -> .mo) after editing src/shijian/locale
messages: install
	$(BIN)/python scripts/compile_messages.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
