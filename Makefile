# The two quick-start commands are `make run` and `make test` (README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster
# Absolute, so `dbt parse` here and dbt under Dagster see the same profile (partial parsing).
export WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
# The sample plan catalogue prices the quota table; `make run PLANS_FILE=` runs without prices.
export PLANS_FILE ?= $(CURDIR)/seeds/plans.csv
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install lock run dev dashboard test lint dbt-unit pytest spark-check reports bench clean

install: $(VENV)/.installed

# The exact versions in requirements.lock (tested), then the project itself without resolving again.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

## lock: re-resolve requirements.lock from pyproject.toml's ranges (pins kept where they still fit;
## `make lock LOCK_ARGS=--upgrade` moves every pin to the newest allowed), then `make install test`
lock: install
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --extra dev --extra spark --strip-extras --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host $(LOCK_ARGS) \
		--output-file requirements.lock pyproject.toml

# The instance config (dagster_home/dagster.yaml, outside the Python package) into DAGSTER_HOME.
$(DAGSTER_HOME)/dagster.yaml: dagster_home/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

# `dbt parse` with the vars a run passes (orchestration/dbt_cli.py), so runs parse partially.
dbt_project/target/manifest.json: install $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml
	$(BIN)/python -m orchestration.dbt_cli

## run: load the sample data in seeds/ (or RAW_DATA_DIR), build every mart, deliver the alerts,
## print a short summary (full log in data/logs/) and the reports
run: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	@$(BIN)/apiwh run
	@$(MAKE) --no-print-directory reports

reports:
	@echo; $(BIN)/apiwh top
	@echo; $(BIN)/apiwh quota
	@echo; $(BIN)/apiwh endpoints --limit 10
	@echo; $(BIN)/apiwh incidents --days 7
	@echo; $(BIN)/apiwh funnel
	@echo; $(BIN)/apiwh retention
	@echo; $(BIN)/apiwh alerts --pending
	@echo; echo "Dashboard: $(dir $(WAREHOUSE_PATH))dashboard/index.html (open it, or \`make dashboard\` serves it)"

## dev: the Dagster UI on http://127.0.0.1:3000 (offline, telemetry off)
dev: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/apiwh dev

## dashboard: serve the dashboard `make run` wrote, on http://127.0.0.1:$(DASHBOARD_PORT)/
DASHBOARD_PORT ?= 8000
dashboard: install
	$(BIN)/apiwh dashboard --port $(DASHBOARD_PORT)

## test: lint (ruff, sqlfluff, portable SQL), dbt parse + unit tests, pytest, then spark-check
## (the sample on local Spark, Java 17: README "Scaling out").
test: install lint dbt-unit pytest
	$(MAKE) --no-print-directory spark-check

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar
	$(BIN)/python scripts/check_portable_sql.py

dbt-unit: install
	bash scripts/dbt_unit_tests.sh $(BIN)

pytest: install dbt_project/target/manifest.json $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/pytest -q

## spark-check: the sample built on DuckDB and on local Spark (Java 17), fully then incrementally,
## every mart compared (README "Scaling out"); a scratch folder, the real warehouse is untouched
spark-check: install
	$(BIN)/python scripts/spark_check.py

## bench: load and refresh timings against DuckDB's own floor (README "Performance")
# Sizes: make bench EVENTS=10M DAYS=30 FORMAT=gzip (or plain, parquet); BENCH_ARGS for more.
EVENTS ?= 2M
DAYS ?= 30
FORMAT ?= gzip
bench: install dbt_project/target/manifest.json
	$(BIN)/python -m benchmarks.run --events $(EVENTS) --days $(DAYS) --format $(FORMAT) $(BENCH_ARGS)

clean:
	rm -rf data .dagster dbt_project/target dbt_project/logs .pytest_cache
