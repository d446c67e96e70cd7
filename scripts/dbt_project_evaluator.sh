#!/usr/bin/env bash
# Run dbt Labs' dbt-project-evaluator on a throwaway copy of dbt_project/ (docs/design.md
# "dbt-project-evaluator"). Nothing here is committed or downloaded: point it at local checkouts of
# dbt-project-evaluator and of dbt-utils (its one dependency), e.g.
#   git clone https://github.com/dbt-labs/dbt-project-evaluator /tmp/dpe
#   git clone https://github.com/dbt-labs/dbt-utils /tmp/dbt_utils
#   DPE_DIR=/tmp/dpe DBT_UTILS_DIR=/tmp/dbt_utils bash scripts/dbt_project_evaluator.sh
# The deliberate exceptions are dbt_project/evaluator_exceptions.csv (the package's exceptions
# seed); the package's settings for this project are the vars below. Not part of CI.
set -euo pipefail
bin=${BIN:-.venv/bin}
dpe=${DPE_DIR:-/tmp/dpe}
utils=${DBT_UTILS_DIR:-/tmp/dbt_utils}
if [[ ! -f "$dpe/dbt_project.yml" ]]; then
    echo "dbt-project-evaluator not found at $dpe (set DPE_DIR to a local checkout of dbt-labs/dbt-project-evaluator)" >&2
    exit 2
fi
if [[ ! -f "$utils/dbt_project.yml" ]]; then
    echo "dbt-utils not found at $utils (set DBT_UTILS_DIR to a local checkout of dbt-labs/dbt-utils)" >&2
    exit 2
fi
bin=$(cd "$bin" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The project, without its build output; the package, pointed at the local dbt-utils.
mkdir -p "$scratch/project/seeds"
(cd "$root/dbt_project" && tar -c --exclude=./target --exclude=./logs --exclude=./dbt_packages .) \
    | tar -x -C "$scratch/project"
cp -r "$dpe" "$scratch/dbt_project_evaluator"
printf 'packages:\n  - local: %s\n' "$utils" >"$scratch/dbt_project_evaluator/packages.yml"
printf 'packages:\n  - local: %s\n' "$scratch/dbt_project_evaluator" >"$scratch/project/packages.yml"
cp "$root/dbt_project/evaluator_exceptions.csv" "$scratch/project/seeds/dbt_project_evaluator_exceptions.csv"
# The package's exceptions seed is replaced by ours; refs resolve in the package first.
sed -i 's/^flags:$/flags:\n  require_ref_prefers_node_package_to_root: true/' "$scratch/project/dbt_project.yml"
cat >>"$scratch/project/dbt_project.yml" <<'YAML'

seeds:
  dbt_project_evaluator:
    dbt_project_evaluator_exceptions:
      +enabled: false
YAML

# unique_combination is this project's multi-column primary-key test (no dbt_utils at run time).
vars='{primary_key_test_macros: [["dbt.test_unique", "dbt.test_not_null"], ["api_usage_warehouse.test_unique_combination"]]}'
export WAREHOUSE_PATH="$scratch/warehouse/warehouse.duckdb"
mkdir -p "$(dirname "$WAREHOUSE_PATH")"
cd "$scratch/project"
"$bin/dbt" deps --quiet
set +e
"$bin/dbt" build --select package:dbt_project_evaluator dbt_project_evaluator_exceptions --vars "$vars"
status=$?
set -e
# Every finding, one line each (the package's tests only count them).
"$bin/python" - "$WAREHOUSE_PATH" <<'PY'
import sys

import duckdb

con = duckdb.connect(sys.argv[1], read_only=True)
tables = con.execute(
    "select table_schema, table_name from information_schema.tables "
    "where table_name like 'fct_%' order by table_name"
).fetchall()
found = 0
for schema, table in tables:
    cursor = con.execute(f'select * from "{schema}"."{table}"')
    names = [column[0] for column in cursor.description]
    for row in cursor.fetchall():
        line = ", ".join(f"{name}={value}" for name, value in zip(names, row))
        if table.endswith("_coverage"):
            print(f"{table}: {line}")
            continue
        found += 1
        print(f"{table}: {line}")
print(f"{found} finding(s)")
PY
exit $status
