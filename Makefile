# The two quick-start commands are `make run` and `make test` (README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster
# Absolute, so `dbt parse` here and dbt under Dagster see the same profile (partial parsing).
export WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

# `make run` and `make dev` hash client IPs with a secret salt made once per checkout and kept in
# a git-ignored file (README "Privacy"); an IP_HASH_SALT you set yourself wins.
IP_SALT_FILE ?= $(CURDIR)/.ip-hash-salt
ifeq ($(origin IP_HASH_SALT),undefined)
run dev: export IP_HASH_SALT = $(shell cat $(IP_SALT_FILE) 2>/dev/null)
endif
# Every other setting is apiwh's own default (docs/contract.md section 3): on the sample in seeds/
# a bare `apiwh run` prices plans with seeds/plans.csv and waits for no settle window, as here.

.PHONY: install install-dev install-spark lock run dev dashboard test lint dbt-unit pytest spark-check reports bench clean

## install: what `make run` needs, nothing more; the dev tools (install-dev) and Spark
## (install-spark) come with the targets that use them
install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-spark: $(VENV)/.installed-spark

# The exact versions in requirements.lock (tested), then the project itself without resolving again.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# pytest, ruff, sqlfluff, pip-tools, the benchmark's libraries: requirements-dev.lock holds the
# runtime pins too, so this adds packages and moves none.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

# pyspark and dbt-spark (about 470 MB), for spark-check only.
$(VENV)/.installed-spark: $(VENV)/.installed requirements-spark.lock
	$(BIN)/pip install --quiet -r requirements-spark.lock
	touch $@

## lock: re-resolve the three locks from pyproject.toml's ranges (pins kept where they still fit;
## `make lock LOCK_ARGS=--upgrade` moves every pin to the newest allowed), then `make install test`.
## The runtime lock first; dev and spark are resolved within its pins (spark within dev's too),
## so any two installed together agree.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)
lock: install-dev
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock --output-file requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) --extra spark --constraint requirements.lock --constraint requirements-dev.lock \
		--output-file requirements-spark.lock pyproject.toml

# The instance config (dagster_home/dagster.yaml, outside the Python package) into DAGSTER_HOME.
$(DAGSTER_HOME)/dagster.yaml: dagster_home/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

# 32 random bytes as hex, readable by you only; never remade (new hashes would not match old ones).
$(IP_SALT_FILE):
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@.tmp && mv $@.tmp $@
	@echo "Made a secret IP hash salt for this checkout in $@ (README \"Privacy\")"

# `dbt parse` with the vars a run passes (orchestration/dbt_cli.py), so runs parse partially.
# Only when a model, macro or test is newer: the venv's stamp, not the phony `install`, which
# would make every `make run` parse again.
dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml
	$(BIN)/python -m orchestration.dbt_cli

## run: load the sample data in seeds/ (or RAW_DATA_DIR), build every mart, deliver the alerts,
## print a short summary (full log in data/logs/) and what to try next
run: $(IP_SALT_FILE) install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	@$(BIN)/apiwh run
	@echo; echo "Next:"
	@echo "  .venv/bin/apiwh top --limit 10    the top customers, their trend and the upsell mark"
	@echo "  .venv/bin/apiwh quota             accounts near their quota, and what to do"
	@echo "  make dashboard                    the dashboard on http://127.0.0.1:$(DASHBOARD_PORT)/"
	@echo "  make reports                      both tables above; README \"Calling apiwh\" has the rest"

## reports: a first look at what `make run` built (ten rows each); every reader is one command away
reports:
	@$(BIN)/apiwh top --limit 10
	@echo; $(BIN)/apiwh quota --limit 10

## dev: the Dagster UI on http://127.0.0.1:3000 (offline, telemetry off)
dev: $(IP_SALT_FILE) install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/apiwh dev

## dashboard: serve the dashboard `make run` wrote, on http://127.0.0.1:$(DASHBOARD_PORT)/
DASHBOARD_PORT ?= 8000
dashboard: install
	$(BIN)/apiwh dashboard --port $(DASHBOARD_PORT)

## test: lint (ruff, sqlfluff, portable SQL), dbt parse + unit tests, pytest and spark-check (the
## models on local Spark, Java 17: docs/scaling.md), side by side: much of each is waiting (on
## Spark, on subprocesses, on the disk). README says how long it takes.
test: install-dev install-spark
	$(MAKE) --no-print-directory -j4 --output-sync=line lint dbt-unit pytest spark-check

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar
	$(BIN)/python scripts/check_portable_sql.py

dbt-unit: install
	bash scripts/dbt_unit_tests.sh $(BIN)

# Four workers on two cores (the tests wait on subprocesses more than they compute), a test module
# each at a time (module fixtures build once), the longest modules first (tests/conftest.py
# LONGEST_FIRST; without --no-loadscope-reorder the scheduler starts modules with many tests first).
PYTEST_WORKERS ?= 4
pytest: install-dev dbt_project/target/manifest.json $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

## spark-check: the sample built on DuckDB and on local Spark (Java 17), fully then incrementally,
## every mart compared (docs/scaling.md); a scratch folder, the real warehouse is untouched
spark-check: install-spark
	$(BIN)/python scripts/spark_check.py

## bench: load and refresh timings against DuckDB's own floor (docs/performance.md)
# Sizes: make bench EVENTS=10M DAYS=30 FORMAT=gzip (or plain, parquet); BENCH_ARGS for more.
EVENTS ?= 2M
DAYS ?= 30
FORMAT ?= gzip
bench: install-dev dbt_project/target/manifest.json
	$(BIN)/python -m benchmarks.run --events $(EVENTS) --days $(DAYS) --format $(FORMAT) $(BENCH_ARGS)

clean:
	rm -rf data .dagster dbt_project/target dbt_project/logs .pytest_cache
