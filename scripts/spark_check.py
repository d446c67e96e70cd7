"""`make spark-check`: the sample built on DuckDB and on local Spark, every mart compared.

Loads the sample (seeds/, or RAW_DATA_DIR) into a scratch DuckDB file with the Python loader,
lands the raw tables as Parquet (orchestration/loading/landing.py), then runs `dbt build`
against the `local` (DuckDB) target (models, data tests, unit tests) and the `spark` target
(models and unit tests), and compares every mart row for row: exact for whole numbers, text, dates and
booleans, within 1e-9 for doubles. Prints one line per mart and exits 1 on any difference.
The models scripts/check_portable_sql.py still lists as DuckDB-only (and what depends on them)
are not built on Spark; their marts are listed as such, never silently left out.
Everything lives in a scratch folder; the real warehouse is never touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = ROOT / "dbt_project"
TOLERANCE = 1e-9
PENDING_LIST = "scripts/check_portable_sql.py NOT_YET_PORTABLE"


def not_yet_portable_models() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_portable_sql import NOT_YET_PORTABLE

    return sorted(Path(path).stem for path in NOT_YET_PORTABLE if path.endswith(".sql"))


def run_dbt(bin_dir: Path, env: dict[str, str], scratch: Path, target: str, exclude: list[str]) -> float:
    """`dbt build` against one target; returns its wall time in seconds."""
    started = time.monotonic()
    command = [
        str(bin_dir / "dbt"),
        "build",
        "--target",
        target,
        "--target-path",
        str(scratch / f"target-{target}"),
        "--log-path",
        str(scratch / f"logs-{target}"),
    ]
    if exclude:
        command += ["--exclude", *(f"{model}+" for model in exclude)]
    if target == "spark":
        # Models and unit tests: the data tests ran on DuckDB, whose marts these must equal.
        command += ["--exclude-resource-type", "test"]
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        failures = [line for line in done.stdout.splitlines() if "ERROR" in line or "FAIL" in line]
        sys.exit(f"spark-check: dbt build --target {target} failed:\n" + "\n".join(failures[-30:]))
    return time.monotonic() - started


def mart_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def _comparable(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def rows_differ(left: list[tuple], right: list[tuple]) -> str | None:
    """The first difference between two sorted row lists, in words; None when equal."""
    if len(left) != len(right):
        return f"{len(left)} rows on DuckDB, {len(right)} on Spark"
    for number, (row_a, row_b) in enumerate(zip(left, right, strict=True), start=1):
        for column, (a, b) in enumerate(zip(row_a, row_b, strict=True)):
            a, b = _comparable(a), _comparable(b)
            if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
                if math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE) or (math.isnan(a) and math.isnan(b)):
                    continue
            elif a == b:
                continue
            return f"row {number}, column {column + 1}: {a!r} on DuckDB, {b!r} on Spark"
    return None


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, repr(type(value)), value if value is not None else 0) for value in row)


def spark_rows(spark, table: str, columns: list[str]) -> list[tuple]:
    selected = ", ".join(f"`{c}`" for c in columns)
    return [tuple(row) for row in spark.sql(f"select {selected} from marts.{table}").collect()]


def compare_marts(warehouse: Path, spark_dir: Path, not_built: set[str]) -> int:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .enableHiveSupport()
        .getOrCreate()
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    differences = 0
    print(f"{'mart':<34} {'rows':>8}  result")
    for table in mart_names(con):
        columns = [row[0] for row in con.execute(f"describe marts.{table}").fetchall()]
        duck = sorted(con.execute(f"select * from marts.{table}").fetchall(), key=_sort_key)
        if table in not_built:
            print(f"{table:<34} {len(duck):>8}  not built on Spark: DuckDB-only SQL left ({PENDING_LIST})")
            continue
        if not spark.catalog.tableExists(f"marts.{table}"):
            problem = "missing on Spark"
        else:
            problem = rows_differ(duck, sorted(spark_rows(spark, table, columns), key=_sort_key))
        differences += problem is not None
        print(f"{table:<34} {len(duck):>8}  {'equal' if problem is None else 'DIFFERENT: ' + problem}")
    spark.stop()
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_raw = Path(os.environ.get("RAW_DATA_DIR", ROOT / "seeds"))
    parser.add_argument("--raw-data-dir", type=Path, default=default_raw)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temp folder)")
    args = parser.parse_args(argv)
    if shutil.which("java") is None:
        print("spark-check: Spark needs Java 17 (apt-get install openjdk-17-jre-headless)", file=sys.stderr)
        return 2
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="spark-check-"))
    scratch = scratch.resolve()
    try:
        return check(args.raw_data_dir.resolve(), scratch)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


def check(raw_data_dir: Path, scratch: Path) -> int:
    from orchestration.loading import load_directory
    from orchestration.loading.landing import land_raw_tables
    from orchestration.settings import DEFAULT_IP_HASH_SALT
    from orchestration.warehouse import connect

    warehouse = scratch / "duckdb" / "warehouse.duckdb"
    landing = scratch / "landing"
    spark_dir = scratch / "spark"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    con = connect(warehouse)
    try:
        report = load_directory(con, raw_data_dir, salt=DEFAULT_IP_HASH_SALT)
        land_raw_tables(con, landing)
    finally:
        con.close()
    load_seconds = time.monotonic() - started
    print(f"loaded {report.events:,} events ({report.rejects:,} rejected) in {load_seconds:.1f} s")
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "LANDING_DIR": str(landing),
        "SPARK_DIR": str(spark_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    duck_seconds = run_dbt(bin_dir, env, scratch, "local", exclude=[])
    print(f"dbt build on DuckDB: {duck_seconds:.1f} s")
    pending = not_yet_portable_models()
    spark_seconds = run_dbt(bin_dir, env, scratch, "spark", exclude=pending)
    print(f"dbt build on Spark:  {spark_seconds:.1f} s (models and unit tests)")
    differences = compare_marts(warehouse, spark_dir, not_built=set(pending))
    if differences:
        print(f"spark-check: {differences} mart(s) differ between DuckDB and Spark", file=sys.stderr)
        return 1
    print("spark-check: every mart is equal on DuckDB and Spark")
    return 0


if __name__ == "__main__":
    sys.exit(main())
