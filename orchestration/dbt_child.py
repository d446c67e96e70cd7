"""`apiwh-dbt`: dbt as a child of a pipeline run, which dies with the run.

dagster-dbt starts dbt as a subprocess. When the run's process is killed (SIGKILL, the OOM
killer), a plain `dbt` child would go on building and hold the DuckDB writer lock, so the next
run fails with "in use by process N". Linux lets a child ask to be killed when its parent dies
(prctl PR_SET_PDEATHSIG); elsewhere this is plain dbt. Under `apiwh run`, a warm `apiwh-dbt`
started with the run has dbt imported already and runs the build in its place
(dbt_warm_start.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
from pathlib import Path

from orchestration import dbt_warm_start

PR_SET_PDEATHSIG = 1


def die_with_parent(signal_number: int = signal.SIGKILL, *, parent: int | None = None) -> None:
    """Ask the kernel to send this process `signal_number` when its parent exits (Linux only;
    else no-op). `parent`: the pid that started this process, when it told us."""
    if not sys.platform.startswith("linux"):
        return
    parent = parent or os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal_number)
    # The parent may have died before prctl took effect: then we were re-parented already.
    if os.getppid() != parent:
        os._exit(1)


def print_version() -> None:
    """`apiwh-dbt --version` from the installed packages' metadata. dagster-dbt asks for it before
    every build; dbt's own answer imports dbt and asks PyPI for the latest release (about 2.5
    CPU seconds and a network call, per run)."""
    from importlib.metadata import PackageNotFoundError, version

    print(f"Core:\n  - installed: {version('dbt-core')}\n\nPlugins:")
    for adapter in ("duckdb", "spark"):
        with contextlib.suppress(PackageNotFoundError):  # dbt-spark comes with `make install-spark`
            print(f"  - {adapter}: {version(f'dbt-{adapter}')}")


def portable_vars(vars_json: str, target: str | None) -> tuple[Path | None, str]:
    """A run's `--vars` with the warehouse's own paths relative to its folder, and that folder
    (None, and the vars as given, on Spark: it keeps its own folders, SPARK_DIR).

    dbt parses the whole project again (about 3 CPU seconds) when the vars or the profile's
    connection differ from its saved state's, and both held the warehouse's absolute path: every
    new warehouse folder (each test's, a scratch copy) paid a full parse. Run from the
    warehouse's folder with `warehouse.duckdb` (the one file name a warehouse may have), the
    same settings give the same vars wherever the folder is.
    """
    values = json.loads(vars_json)
    warehouse = values.get("warehouse_path")
    if not warehouse or target == "spark":
        return None, vars_json
    folder = Path(warehouse).parent
    values["warehouse_path"] = Path(warehouse).name
    landing = values.get("landing_dir")
    if landing and Path(landing).is_relative_to(folder):
        values["landing_dir"] = str(Path(landing).relative_to(folder))
    return folder, json.dumps(values, sort_keys=True)


def _run_from_the_warehouse_folder(args: list[str]) -> list[str]:
    """`args` for dbt started in the warehouse's folder (portable_vars)."""
    if "--vars" not in args[:-1]:
        return args
    target = args[args.index("--target") + 1] if "--target" in args[:-1] else None
    at = args.index("--vars") + 1
    folder, portable = portable_vars(args[at], target)
    if folder is None:
        return args
    project = os.getcwd()  # dagster-dbt and dbt_cli start dbt in the project's folder
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    return [*args[:at], portable, *args[at + 1 :], "--project-dir", project, "--profiles-dir", project]


def _without_a_debug_file(args: list[str]) -> list[str]:
    """`args` with dbt's own log file off, unless they ask for one. The run's log (Dagster's, the
    file `apiwh run` names) already holds dbt's lines; dbt.log repeats them with every SQL
    statement at debug level, which took about 15% of a small build's CPU. A dbt run by hand
    (`dbt build` in dbt_project/) keeps its dbt.log."""
    if any(arg.startswith("--log-level-file") for arg in args):
        return args
    return [*args, "--log-level-file", "none"]


def dbt_arguments(argv: list[str]) -> list[str]:
    """`argv` as dbt gets it here: run from the warehouse's folder (this changes the working
    directory: portable_vars), without dbt's own debug file. Call from the project's folder."""
    return _without_a_debug_file(_run_from_the_warehouse_folder(argv))


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print_version()
        return
    if sys.argv[1:2] == ["--warm"]:
        dbt_warm_start.serve(run_pid=int(sys.argv[2]))
        return
    die_with_parent()
    args = dbt_arguments(sys.argv[1:])
    code = dbt_warm_start.run_in_warm_process(args)
    if code is not None:
        sys.exit(code)
    from dbt.cli.main import cli  # imported after prctl: dbt's import takes seconds

    sys.exit(cli(args))
