"""One dbt process per pytest worker, behind the test kit's dbt runner (tests/support.py run_dbt).

A `dbt` command spends about 3 CPU seconds before its first model (importing dbt, loading or
parsing the project), and the tests run about forty of them. This process imports dbt once and
keeps each parsed project, keyed like dbt's parse states (orchestration/dbt_cli.parse_state_path),
so a command whose vars it has seen before starts at once (dbtRunner(manifest=...), as `apiwh
alerts replay` does). Each command still runs as apiwh-dbt runs it: in its warehouse's folder
and environment, with the same arguments (orchestration/dbt_child.dbt_arguments). The process
dies with its worker.

Requests and replies are JSON lines on its stdin and stdout; dbt's own console output is
captured per command and sent back with the exit code.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import select
import subprocess
import sys

from orchestration.settings import DBT_PROJECT_DIR

# Parsed projects kept: one per set of vars, and a worker meets only a few.
KEEP_MANIFESTS = 8
TIMEOUT_SECONDS = 900  # for one command: a hung dbt fails its test, not the whole session
PARSE_OPTIONS = ("--vars", "--target", "--target-path", "--log-path", "--project-dir", "--profiles-dir")


class DbtServer:
    """The client: starts the server on first use, sends it one command at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None

    def run(self, args: list[str], env: dict[str, str], manifest_key: str) -> subprocess.CompletedProcess:
        """`dbt <args>` (args as apiwh-dbt takes them) with `env`; a project parsed with the same
        manifest_key is reused."""
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.dbt_server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=DBT_PROJECT_DIR.parent,
            )
            atexit.register(self._process.kill)
        request = {"args": args, "env": env, "manifest_key": manifest_key}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answered, _, _ = select.select([self._process.stdout], [], [], TIMEOUT_SECONDS)
        if not answered:
            self._process.kill()
            raise AssertionError(f"dbt {args} took more than {TIMEOUT_SECONDS} s")
        reply = self._process.stdout.readline()
        if not reply:
            raise AssertionError(f"the dbt server died (exit code {self._process.wait()}) running dbt {args}")
        result = json.loads(reply)
        return subprocess.CompletedProcess(["dbt", *args], result["returncode"], result["output"], "")


def _parse_arguments(args: list[str]) -> list[str]:
    """`dbt parse` with the command's vars, target and folders (its other options are not parse's)."""
    picked = []
    for option, value in zip(args, args[1:], strict=False):
        if option in PARSE_OPTIONS:
            picked += [option, value]
    return ["parse", *picked]


def _invoke(request: dict, manifests: dict) -> int:
    from dbt.cli.main import dbtRunner

    from orchestration.dbt_child import dbt_arguments

    os.chdir(DBT_PROJECT_DIR)
    os.environ.clear()
    os.environ.update(request["env"])
    args = dbt_arguments(request["args"])  # from here on, in the warehouse's folder
    key = request["manifest_key"]
    if key not in manifests:
        parsed = dbtRunner().invoke(_parse_arguments(args))
        if not parsed.success:
            return _exit_code(parsed)
        if len(manifests) >= KEEP_MANIFESTS:
            manifests.pop(next(iter(manifests)))
        manifests[key] = parsed.result
    return _exit_code(dbtRunner(manifest=manifests[key]).invoke(args))


def _exit_code(result) -> int:
    """The `dbt` command's exit code for a dbtRunner result: 0, 1 (a node failed), 2 (dbt failed)."""
    if result.success:
        return 0
    return 2 if result.exception else 1


def serve() -> None:
    from orchestration.dbt_child import die_with_parent
    from orchestration.dbt_cli import release_dbt_duckdb_connection

    die_with_parent()
    replies = sys.stdout  # dbt's output goes to a buffer per command, never here
    manifests: dict = {}
    for line in sys.stdin:
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            try:
                returncode = _invoke(json.loads(line), manifests)
            except Exception as error:  # dbt reports its own failures in its result; anything
                # else (a bad request) is one reply too, and the next request still runs
                print(f"{type(error).__name__}: {error}")
                returncode = 2
            release_dbt_duckdb_connection()  # dbt-duckdb keeps the file open otherwise
        replies.write(json.dumps({"returncode": returncode, "output": output.getvalue()}) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
