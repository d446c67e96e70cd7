"""`make spark-check`: the models built on DuckDB and on local Spark, every mart compared.

The data: by default a generated set (apiwh generate, 24 organizations over the 28 days to
2026-11-10), the smallest that still puts rows in every mart, priced with seeds/plans.csv, so
every model is exercised
and Spark's per-statement cost stays low; `--raw-data-dir` checks another folder (the bundled
sample in seeds/ takes several times longer). With the generated set, an empty mart fails the
check: it would compare nothing.

Two rounds, as the pipeline runs: the data but its last files is loaded into a scratch DuckDB file
with the Python loader and landed as Parquet (orchestration/loading/landing.py), then built from
scratch on both engines: `dbt run` against the `local` (DuckDB) target, `dbt build` against the
`spark` target (models, plus the unit tests of the models whose SQL differs by engine: they call a
dispatched macro). Then the held-back files are loaded and landed, and both engines run the
incremental models again: they replace only the days the new loads touch and the new as-of day
(delete+insert on DuckDB, insert_overwrite of day partitions on Spark). Every mart and incremental
intermediate table is then compared row for row: exact for whole numbers, text, dates and
booleans, within 1e-9 for doubles. Prints one line per table and exits 1 on any difference. The
DuckDB data and unit tests run in `make test` itself (dbt-unit, pytest).
The models scripts/check_portable_sql.py still lists as DuckDB-only (and what depends on them)
are not built on Spark; their marts are listed as such, never silently left out.
Everything lives in a scratch folder; the real warehouse is never touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
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
# The smallest generated data with rows in every mart (an endpoint incident, upgrade candidates,
# and a quota outcome: October is a complete month before the as-of month).
SMALLEST_SAMPLE = {"orgs": 24, "days": 28, "seed": 3, "end_date": dt.date(2026, 11, 10)}
PLANS_FILE = ROOT / "seeds" / "plans.csv"
# Tuned for minutes on a small set, not hours on a big one: no whole-stage code generation (each
# query compiles longer than it runs here) and a JVM that compiles less (C1 only, serial GC).
# C1-only code all goes to one segment of the code cache; when it filled up, linking a method
# handle failed now and then ("InternalError: no such method: MethodHandle.linkToStatic", in
# int_key_issuances twice in about ten runs). One unsegmented cache of 512 MB (reserved, not
# used) leaves room.
SMALL_DATA_JVM = (
    "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-SegmentedCodeCache -XX:ReservedCodeCacheSize=512m"
)
SMALL_DATA_SETTINGS = {
    "SPARK_WHOLE_STAGE_CODEGEN": "false",
    "SPARK_DRIVER_JAVA_OPTIONS": SMALL_DATA_JVM,
    "SPARK_LOG_LEVEL": "ERROR",
    "SPARK_SHUFFLE_PARTITIONS": "1",
    "SPARK_ADAPTIVE": "false",
}


def not_yet_portable_models() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_portable_sql import NOT_YET_PORTABLE

    return sorted(Path(path).stem for path in NOT_YET_PORTABLE if path.endswith(".sql"))


def run_dbt(scratch: Path, target: str, selection: list[str]) -> float:
    """One dbt command against one target; returns its wall time in seconds.

    DuckDB runs in a dbt child process. Spark runs in this process (dbtRunner): dbt-spark's
    session method starts the JVM on its first statement and every later statement, the second
    round and the comparison find the same SparkSession, so one JVM (its start, the Hive
    catalogue, the warmed-up compiler) serves the whole check instead of three."""
    started = time.monotonic()
    paths = ["--target-path", str(scratch / f"target-{target}")]
    paths += ["--log-path", str(scratch / f"logs-{target}")]
    if target == "spark":
        from dbt.cli.main import dbtRunner

        flags = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--quiet"]
        done = dbtRunner().invoke([*selection, "--target", target, *paths, *flags])
        if not done.success:
            results = getattr(done.result, "results", None) or []
            failures = [f"{r.node.name}: {r.message}" for r in results if str(r.status) in ("error", "fail")]
            sys.exit(
                f"spark-check: dbt {selection[0]} --target {target} failed:\n"
                + "\n".join(failures[-30:] or [str(done.exception)])
            )
        return time.monotonic() - started
    command = [str(Path(sys.executable).parent / "dbt"), *selection, "--target", target, *paths]
    done = subprocess.run(command, cwd=DBT_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stdout.splitlines()
        failures = [line for line in lines if "ERROR" in line or "FAIL" in line]
        # dbt's closing summary carries each error's message.
        summary = next((i for i, line in enumerate(lines) if "Completed with" in line), len(lines))
        sys.exit(
            f"spark-check: dbt {selection[0]} --target {target} failed:\n"
            + "\n".join(failures[-30:] + lines[summary : summary + 40])
        )
    return time.monotonic() - started


# Dispatched macros that decide how or which days are written, not what a model computes: a
# unit test renders the same SQL through them on both engines.
WRITE_ONLY_MACROS = {"incremental_by_day", "create_incremental_state", "days_to_rebuild"}


def engine_specific_unit_tests(manifest_path: Path) -> tuple[list[str], list[str]]:
    """(unit tests to run on Spark, the others): a unit test runs there when its model calls,
    directly or through other macros, a macro dispatched by adapter (one with a default__
    implementation: the project's portable macros, dbt.datediff, ...). The rest is SQL both
    engines read alike, already unit-tested on DuckDB."""
    manifest = json.loads(manifest_path.read_text())
    macros = manifest["macros"]
    dispatched = {
        m["name"].removeprefix("default__") for m in macros.values() if m["name"].startswith("default__")
    }
    differs: dict[str, bool] = {}

    def macro_differs(unique_id: str) -> bool:
        if unique_id not in differs:
            differs[unique_id] = False  # a cycle stops here
            macro = macros.get(unique_id)
            if macro is not None and macro["name"] not in WRITE_ONLY_MACROS:
                differs[unique_id] = macro["name"] in dispatched or any(
                    macro_differs(called) for called in macro["depends_on"]["macros"]
                )
        return differs[unique_id]

    nodes = manifest["nodes"]
    selected, skipped = [], []
    for unit_test in manifest["unit_tests"].values():
        model = nodes[unit_test["depends_on"]["nodes"][0]]
        engine_specific = any(macro_differs(called) for called in model["depends_on"]["macros"])
        (selected if engine_specific else skipped).append(unit_test["name"])
    clashes = {node["name"] for node in nodes.values()} & set(skipped)
    if clashes:
        sys.exit(f"spark-check: unit tests named like a model cannot be left out by name: {sorted(clashes)}")
    return sorted(selected), sorted(skipped)


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


def spark_rows(spark, relation: str, columns: list[str]) -> list[tuple]:
    selected = ", ".join(f"`{c}`" for c in columns)
    return [tuple(row) for row in spark.sql(f"select {selected} from {relation}").collect()]


def incremental_intermediates(manifest_path: Path) -> list[str]:
    """The intermediate tables built incrementally (schema.table): compared besides the marts."""
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    return sorted(
        f"{node['schema']}.{node['alias']}"
        for node in nodes
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["schema"] == "intermediate"
    )


def compare_marts(warehouse: Path, not_built: set[str], extra: list[str], *, rows_required: bool) -> int:
    from pyspark.sql import SparkSession

    # The session dbt-spark started in this process (profiles.yml: UTC, the scratch catalogue).
    spark = SparkSession.builder.getOrCreate()
    differences = 0
    print(f"{'table':<44} {'rows':>8}  result")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for relation in [f"marts.{table}" for table in mart_names(con)] + extra:
            columns = [row[0] for row in con.execute(f"describe {relation}").fetchall()]
            duck = sorted(con.execute(f"select * from {relation}").fetchall(), key=_sort_key)
            if relation.split(".")[1] in not_built:
                pending = f"not built on Spark: DuckDB-only SQL left ({PENDING_LIST})"
                print(f"{relation:<44} {len(duck):>8}  {pending}")
                continue
            if not spark.catalog.tableExists(relation):
                problem = "missing on Spark"
            else:
                problem = rows_differ(duck, sorted(spark_rows(spark, relation, columns), key=_sort_key))
            if problem is None and rows_required and not duck and relation.startswith("marts."):
                problem = "empty: this data exercises nothing here"
            differences += problem is not None
            result = "equal" if problem is None else f"DIFFERENT: {problem}"
            print(f"{relation:<44} {len(duck):>8}  {result}")
    spark.stop()
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--raw-data-dir",
        type=Path,
        help="check this landing folder (default: a generated set, the smallest that fills every mart)",
    )
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temp folder)")
    # Internal: the check itself, in a child started with the scratch folder's environment.
    parser.add_argument("--check-in", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check_in is not None:
        raw_data_dir = args.raw_data_dir or args.check_in / "generated"
        return check(raw_data_dir, args.check_in, rows_required=args.raw_data_dir is None)
    if shutil.which("java") is None:
        print("spark-check: Spark needs Java 17 (apt-get install openjdk-17-jre-headless)", file=sys.stderr)
        return 2
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="spark-check-"))
    scratch = scratch.resolve()
    try:
        if args.raw_data_dir is None:
            from orchestration.sample_data.files import generate

            generate(scratch / "generated", **SMALLEST_SAMPLE)
        raw_data = ["--raw-data-dir", str(args.raw_data_dir.resolve())] if args.raw_data_dir else []
        # dbt reads the scratch paths from the environment, and Spark runs inside this child
        # (run_dbt): it is started with them, this process's environment stays untouched.
        child = [sys.executable, str(Path(__file__).resolve()), "--check-in", str(scratch), *raw_data]
        return subprocess.run(child, env=check_environment(scratch)).returncode
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


def check_environment(scratch: Path) -> dict[str, str]:
    """The environment of the check's child: every path inside the scratch folder."""
    from orchestration.settings import environment_with

    return environment_with(
        WAREHOUSE_PATH=str(scratch / "duckdb" / "warehouse.duckdb"),
        LANDING_DIR=str(scratch / "landing"),
        SPARK_DIR=str(scratch / "spark"),
        PLANS_FILE=str(PLANS_FILE),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        **SMALL_DATA_SETTINGS,
    )


# The newest files are held back for the second, incremental round (the last days and the late
# events they carry); with fewer files than this there is one round only.
HELD_BACK_FILES = 2


def first_round_files(raw_data_dir: Path, scratch: Path) -> Path | None:
    """A copy of the raw folder without its newest data files; None when too few to split."""
    from orchestration.loading.discovery import discover_files

    candidates, _ = discover_files(raw_data_dir)
    if len(candidates) <= HELD_BACK_FILES:
        return None
    first = scratch / "raw-first-round"
    for candidate in candidates[:-HELD_BACK_FILES]:
        target = first / candidate.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(candidate.path, target)
    return first


def load_and_land(warehouse: Path, raw_dir: Path, landing: Path) -> str:
    from orchestration.loading import load_directory
    from orchestration.loading.landing import land_raw_tables
    from orchestration.settings import DEFAULT_IP_HASH_SALT
    from orchestration.warehouse import connect

    started = time.monotonic()
    with connect(warehouse) as con:
        report = load_directory(con, raw_dir, salt=DEFAULT_IP_HASH_SALT)
        land_raw_tables(con, landing)
    return f"{report.events:,} events ({report.rejects:,} rejected) in {time.monotonic() - started:.1f} s"


def check(raw_data_dir: Path, scratch: Path, *, rows_required: bool) -> int:
    """Both rounds and the comparison, run by the child main() starts with check_environment."""
    warehouse = scratch / "duckdb" / "warehouse.duckdb"
    landing = scratch / "landing"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    pending = not_yet_portable_models()
    not_built = [f"{model}+" for model in pending]
    first = first_round_files(raw_data_dir, scratch)
    rounds = [("full build", first or raw_data_dir)] + ([("incremental", raw_data_dir)] if first else [])
    for number, (kind, raw_dir) in enumerate(rounds, start=1):
        print(f"round {number} ({kind}): loaded {load_and_land(warehouse, raw_dir, landing)}")
        # Round 2 runs the incremental models (and the as-of date, which moves on) only, on both
        # engines: the other marts stay as round 1 built them on both, so one comparison at the
        # end covers both rounds.
        incremental = ["--select", "int_as_of_date", "config.materialized:incremental"]
        selection = ["run"] if number == 1 else ["run", *incremental]
        duck_seconds = run_dbt(scratch, "local", selection)
        print(f"  dbt {' '.join(selection)} on DuckDB: {duck_seconds:.1f} s")
        if number == 1:
            manifest = scratch / "target-local" / "manifest.json"
            unit_tests, skipped = engine_specific_unit_tests(manifest)
            # Models and the engine-specific unit tests: the data tests run on DuckDB (make test).
            selection = ["build", "--exclude-resource-type", "test"]
            excluded = not_built + skipped
            what = f"models and {len(unit_tests)} of {len(unit_tests) + len(skipped)} unit tests"
        else:
            excluded, what = not_built, "insert_overwrite of the touched days"
        selection += ["--exclude", *excluded] if excluded else []
        spark_seconds = run_dbt(scratch, "spark", selection)
        print(f"  dbt {selection[0]} on Spark: {spark_seconds:.1f} s ({what})")
    started = time.monotonic()
    differences = compare_marts(
        warehouse, set(pending), incremental_intermediates(manifest), rows_required=rows_required
    )
    print(f"compared in {time.monotonic() - started:.1f} s")
    if differences:
        print(f"spark-check: {differences} mart(s) differ between DuckDB and Spark", file=sys.stderr)
        return 1
    print("spark-check: every mart is equal on DuckDB and Spark")
    return 0


if __name__ == "__main__":
    sys.exit(main())
