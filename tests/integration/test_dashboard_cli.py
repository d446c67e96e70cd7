"""`apiwh dashboard` and `apiwh report` before anything is built, or with a bad input: one line."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.support import apiwh, warehouse_env


def _apiwh(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`apiwh` against a warehouse in tmp_path that does not exist yet."""
    return apiwh(warehouse_env(tmp_path, **env), *args)


def _one_line_error(completed: subprocess.CompletedProcess, *needles: str) -> None:
    # The command line's convention: exit 2 for a bad command line or setting, 1 when the
    # command could not do it; either way one line naming the command.
    assert completed.returncode in (1, 2), completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apiwh") and ": error: " in lines[0], completed.stderr
    for needle in needles:
        assert needle in lines[0]


def test_dashboard_before_the_first_run_says_what_to_do(tmp_path: Path) -> None:
    _one_line_error(_apiwh(tmp_path, "dashboard", "--port", "0"), "no published snapshot", "make run")


def test_report_before_the_first_run_says_what_to_do(tmp_path: Path) -> None:
    _one_line_error(_apiwh(tmp_path, "report", "org_1"), "no published snapshot", "make run")


def test_report_with_a_bad_organizations_file_names_the_problem(tmp_path: Path) -> None:
    organizations = tmp_path / "organizations.csv"
    organizations.write_text("organization_id,name\norg_1,Acme\n", encoding="utf-8")
    completed = _apiwh(tmp_path, "report", "org_1", ORGANIZATIONS_FILE=str(organizations))
    _one_line_error(completed, "ORGANIZATIONS_FILE", "display_name")


def test_dashboard_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    site = tmp_path / "data" / "dashboard"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<html></html>", encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _one_line_error(_apiwh(tmp_path, "dashboard", "--port", str(port)), f"127.0.0.1:{port}", "--port")


def test_report_month_and_days_are_exclusive(tmp_path: Path) -> None:
    completed = _apiwh(tmp_path, "report", "org_1", "--month", "2026-03", "--days", "7")
    assert completed.returncode == 2 and "not allowed with argument" in completed.stderr
