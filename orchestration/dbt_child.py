"""`apiwh-dbt`: dbt as a child of a pipeline run, which dies with the run.

dagster-dbt starts dbt as a subprocess. When the run's process is killed (SIGKILL, the OOM
killer), a plain `dbt` child would go on building and hold the DuckDB writer lock, so the next
run fails with "in use by process N". Linux lets a child ask to be killed when its parent dies
(prctl PR_SET_PDEATHSIG); elsewhere this is plain dbt.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(signal_number: int = signal.SIGKILL) -> None:
    """Ask the kernel to send this process `signal_number` when its parent exits (Linux only;
    else no-op)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
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


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print_version()
        return
    die_with_parent()
    from dbt.cli.main import cli  # imported after prctl: dbt's import takes seconds

    sys.exit(cli())
