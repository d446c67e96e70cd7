# The two quick-start commands are `make run` and `make test` (README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster
# Absolute, so `dbt parse` here and dbt under Dagster see the same profile (partial parsing).
export WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install run dev test lint dbt-unit pytest reports clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster_home/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

dbt_project/target/manifest.json: install $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --quiet

## run: load the sample data in seeds/ (or RAW_DATA_DIR), build every mart, deliver the alerts,
## print a short summary (full log in data/logs/) and the reports
run: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	@$(BIN)/apiwh run
	@$(MAKE) --no-print-directory reports

reports:
	@echo; $(BIN)/apiwh top
	@echo; $(BIN)/apiwh quota
	@echo; $(BIN)/apiwh endpoints --limit 10
	@echo; $(BIN)/apiwh funnel
	@echo; $(BIN)/apiwh retention
	@echo; $(BIN)/apiwh alerts --pending

## dev: the Dagster UI on http://127.0.0.1:3000 (offline, telemetry off)
dev: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/apiwh dev

## test: lint (ruff, sqlfluff), dbt parse + unit tests, then pytest
test: install lint dbt-unit pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar

dbt-unit: install
	bash scripts/dbt_unit_tests.sh $(BIN)

pytest: install dbt_project/target/manifest.json $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/pytest -q

clean:
	rm -rf data .dagster dbt_project/target dbt_project/logs .pytest_cache
