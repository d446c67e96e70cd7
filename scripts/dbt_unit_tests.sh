#!/usr/bin/env bash
# Every dbt unit test, against a scratch warehouse: unit tests need their upstream relations to
# exist, so the models are first built empty (`dbt run --empty`, which parses the project too),
# which must never touch the real WAREHOUSE_PATH (docs/design.md).
set -euo pipefail
bin=${1:-.venv/bin}
bin=$(cd "$bin" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export WAREHOUSE_PATH="$scratch/warehouse.duckdb"
cd "$(dirname "$0")/../dbt_project"
dbt_args=(--target-path "$scratch/target" --log-path "$scratch/logs")
"$bin/python" -c "
from pathlib import Path
from orchestration.loading import ensure_raw_schema
from orchestration.warehouse import connect
ensure_raw_schema(connect(Path('$WAREHOUSE_PATH')))
"
"$bin/dbt" run --empty --quiet "${dbt_args[@]}"
"$bin/dbt" test --select test_type:unit "${dbt_args[@]}"
