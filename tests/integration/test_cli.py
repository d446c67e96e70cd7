"""`apiwh` as a newcomer meets it: `apiwh run` on a fresh folder, then every reader, in real
subprocesses. The as-of date is the last day of a month, where quota wording used to mislead."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.cli import COMMANDS, build_parser
from orchestration.settings import PROJECT_ROOT
from tests.cli_support import AS_OF, month_end_run
from tests.support import apiwh, query, run_dbt, warehouse_env


@pytest.fixture(scope="module")
def built(shared):
    """One real `apiwh run` (over a minute, shared by the session) that every CLI test reads."""
    return month_end_run(shared)


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) == 1, result.stderr
    return lines[0]


# ----------------------------------------------------------------------------- the first run


def test_run_prints_a_short_summary_and_keeps_the_full_log_in_a_file(built) -> None:
    out = built.run.stdout.splitlines()
    assert len(out) <= 7, built.run.stdout  # no dbt or Dagster log lines on the terminal
    assert len(built.run.stderr.splitlines()) <= 8, built.run.stderr  # one progress line per step
    summary = built.run.stdout
    assert "daily_refresh succeeded" in summary
    assert "files   1 loaded, 0 empty, 0 failed, 0 already loaded" in summary
    assert "events  1,199 loaded, 0 lines rejected" in summary
    assert f"as-of date {AS_OF}" in summary
    log_name = re.search(r"Full log: (\S+)", summary).group(1)
    log = (built.root / log_name).read_text()
    assert "warehouse_dbt_models" in log and "STEP_SUCCESS" in log  # Dagster's and dbt's lines
    # Alerts from the first run are delivered (to the always-on file sink), not left pending.
    assert "alerts  5 new, 5 delivered to data/alerts.jsonl" in summary
    sent = [json.loads(line) for line in (built.root / "data" / "alerts.jsonl").read_text().splitlines()]
    assert len(sent) == 5
    pending = apiwh(built.env, "alerts", "--pending")
    assert pending.returncode == 0 and "No pending alerts." in pending.stderr
    listed = [json.loads(line) for line in apiwh(built.env, "alerts", "--json").stdout.splitlines()]
    # Delivered on the first try is one attempt (docs/contract.md "Alerts").
    assert {(row["status"], row["delivery_attempts"]) for row in listed} == {("delivered", 1)}


def test_the_run_is_recorded_in_dagster_with_row_counts(built, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", built.env["DAGSTER_HOME"])
    # The project's dagster.yaml was installed: no newsletter pop-up in the UI.
    assert "nux:\n  enabled: false" in (Path(built.env["DAGSTER_HOME"]) / "dagster.yaml").read_text()
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "quota_utilization"]))
    metadata = event.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == 93  # 3 organizations x 31 days
    # Which way the build went, for the UI's history (orchestration/defs/dbt.py).
    assert metadata["build_kind"].value in {"full", "incremental"}


# -------------------------------------------------------------------------------- quota words


def _quota_rows(output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in output.splitlines() if line.startswith("org_")}


def test_quota_reads_the_marts_outlook_and_action_on_the_last_day_of_the_month(built) -> None:
    result = apiwh(built.env, "quota", "--min-pct", "0")
    assert result.returncode == 0, result.stderr
    rows = _quota_rows(result.stdout)
    # 98.9% with days_to_cap 0 on the month's last day: marts.quota_outlook says resets_first,
    # and UPSELL NOW (80% or more of the cap): never "at cap", never a number of days.
    assert "98.9%" in rows["org_near"] and "resets on Nov 1" in rows["org_near"]
    assert "UPSELL NOW" in rows["org_near"] and "cap reached" not in rows["org_near"]
    # days_to_cap 329 on the month's last day: no "329 days".
    assert "329" not in rows["org_far"] and "resets on Nov 1" in rows["org_far"]
    assert " ok " in rows["org_far"]
    assert "cap reached" in rows["org_over"] and "CRITICAL" in rows["org_over"]
    actions = {
        row["organization_id"]: (row["outlook"], row["action"])
        for row in map(
            json.loads, apiwh(built.env, "quota", "--min-pct", "0", "--format", "json").stdout.splitlines()
        )
    }
    assert actions == {
        "org_near": ("resets_first", "UPSELL NOW"),
        "org_far": ("resets_first", "ok"),
        "org_over": ("cap_reached", "CRITICAL"),
    }


def test_quota_for_one_organization_below_50_pct_shows_it(built) -> None:
    result = apiwh(built.env, "quota", "--org", "org_far")
    assert result.returncode == 0
    assert "8.6%" in _quota_rows(result.stdout)["org_far"]
    unknown = apiwh(built.env, "quota", "--org", "org_fra")
    assert unknown.returncode == 2
    assert _one_line_error(unknown) == (
        "apiwh quota: error: unknown organization 'org_fra'; did you mean 'org_far'?"
    )


def test_quota_alert_and_its_note_agree_with_the_projection(built) -> None:
    sent = {
        row["alert_key"]: row
        for row in map(json.loads, (built.root / "data" / "alerts.jsonl").read_text().splitlines())
    }
    near = sent["quota_threshold:org_near:2026-10:95"]
    # The alert says what `apiwh quota` says: the outlook and action of marts.quota_outlook.
    assert "UPSELL NOW" in near["title"] and "resets on Nov 1" in near["title"]
    assert "less than a day" not in near["text"] and "cap reached" not in near["text"]
    assert "within your quota, which resets on Nov 1" in near["text"]
    over = sent["quota_threshold:org_over:2026-10:100"]
    assert "CRITICAL" in over["title"] and "cap reached" in over["title"]
    assert "reaching your monthly quota of 100" in over["text"]


# -------------------------------------------------------------------------------------- reads


def test_readers_show_the_as_of_date_they_read(built) -> None:
    for command in (["top"], ["quota"], ["endpoints"], ["funnel"], ["retention"], ["alerts"]):
        result = apiwh(built.env, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert AS_OF in result.stdout.splitlines()[0], (command, result.stdout)


def test_as_of_in_the_environment_is_rejected_when_the_marts_differ(built) -> None:
    result = apiwh(built.env, "top", extra={"AS_OF": "2026-10-15"})
    assert result.returncode == 2
    assert _one_line_error(result) == (
        "apiwh top: error: AS_OF=2026-10-15 is set, but the marts were built for the as-of date "
        "2026-10-31; run `apiwh run` with this AS_OF to rebuild them for that date, or unset AS_OF"
    )
    assert apiwh(built.env, "top", extra={"AS_OF": AS_OF}).returncode == 0  # the same date: fine


def test_a_hand_run_dbt_build_is_reported_until_published(built, tmp_path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(built.root / "data", root / "data")  # keeps modification times
    env = warehouse_env(root, DAGSTER_HOME=built.env["DAGSTER_HOME"])
    fresh = apiwh(env, "top")
    assert fresh.returncode == 0 and fresh.stderr == ""

    # The documented hand-run dbt (docs/operations.md), here for another as-of date.
    dbt = run_dbt(Path(env["WAREHOUSE_PATH"]), "run", "-s", "int_as_of_date", as_of="2026-10-20", check=False)
    assert dbt.returncode == 0, dbt.stdout[-2000:]
    status = apiwh(env, "status").stdout
    assert "As-of date of the live warehouse: 2026-10-20" in status
    assert "the live warehouse changed since: `apiwh publish` updates it" in status
    stale = apiwh(env, "sql", "select as_of_date from meta.snapshot", "--format", "csv")
    assert stale.stdout.splitlines() == ["as_of_date", AS_OF]
    assert "the live warehouse changed after this snapshot was published" in stale.stderr

    published = apiwh(env, "publish")
    assert published.returncode == 0 and "as-of date 2026-10-20" in published.stdout
    now = apiwh(env, "sql", "select as_of_date from meta.snapshot", "--format", "csv")
    assert now.stdout.splitlines() == ["as_of_date", "2026-10-20"] and now.stderr == ""


def test_sql_reads_the_snapshot_as_table_csv_and_json(built) -> None:
    query = (
        "select organization_id, used_mtd from marts.quota_utilization"
        " where usage_date = '2026-10-31' order by 1"
    )
    csv_out = apiwh(built.env, "sql", query, "--format", "csv")
    assert csv_out.stdout.splitlines() == [
        "organization_id,used_mtd",
        "org_far,86",
        "org_near,989",
        "org_over,120",
    ]
    json_out = apiwh(built.env, "sql", query, "--format", "json")
    assert json.loads(json_out.stdout.splitlines()[1]) == {"organization_id": "org_near", "used_mtd": 989}
    table = apiwh(built.env, "sql", query)
    assert table.stdout.splitlines()[2].split() == ["org_far", "86"]
    assert "3 row(s); marts as of 2026-10-31" in table.stderr
    # Raw counts are published (meta.raw_load_summary); raw tables themselves are not.
    raw = apiwh(built.env, "sql", "select files, events from meta.raw_load_summary", "--format", "csv")
    assert raw.stdout.splitlines() == ["files,events", "1,1199"]
    missing = apiwh(built.env, "sql", "select count(*) from raw.events")
    assert missing.returncode == 1 and "raw.events" in _one_line_error(missing)
    outside = apiwh(built.env, "sql", f"select * from read_text('{PROJECT_ROOT / 'README.md'}')")
    assert outside.returncode == 1 and "disabled" in _one_line_error(outside).lower()


# ------------------------------------------------------------------------------------- errors

BAD_INPUT = [
    # (arguments, extra environment, exit code, part of the message)
    (["run"], {"AS_OF": "2026-13-01"}, 2, "AS_OF must be a date as YYYY-MM-DD, got '2026-13-01'"),
    (
        ["run"],
        {"RAW_DATA_DIR": "/nonexistent/landing"},
        2,
        "RAW_DATA_DIR /nonexistent/landing is not a folder",
    ),
    (["run", "--fast"], {}, 2, "unrecognized arguments: --fast"),
    (["load"], {"RAW_DATA_DIR": "/nonexistent/landing"}, 2, "is not a folder: nothing loaded"),
    (["status"], {"WAREHOUSE_PATH": "/nonexistent/w/warehouse.duckdb"}, 1, "no warehouse at"),
    (["rejects", "--limit", "-1"], {}, 2, "argument --limit: expected 1 or more, got -1"),
    (["publish"], {"WAREHOUSE_PATH": "/nonexistent/w/warehouse.duckdb"}, 1, "no warehouse at"),
    (["sql", "selec 1"], {}, 1, "Parser Error"),
    (["sql", " "], {}, 2, "the query is empty"),
    (["top", "--org", "org_nera"], {}, 2, "unknown organization 'org_nera'; did you mean 'org_near'?"),
    (["top", "--limit", "0"], {}, 2, "expected 1 or more, got 0"),
    (["top", "--trend", "up"], {}, 2, "invalid choice: 'up'"),
    (["quota", "--min-pct", "lots"], {}, 2, "expected a percent such as 80, got 'lots'"),
    (["endpoints", "--days", "0"], {}, 2, "expected 1 or more, got 0"),
    (
        ["endpoints", "--days", "5"],
        {},
        2,
        "expected 1, 7 or 30 (the windows of marts.endpoint_window_performance)",
    ),
    (["top", "--format", "xml"], {}, 2, "argument --format: invalid choice: 'xml'"),
    (["endpoints", "--org", "org_x"], {}, 2, "unknown organization 'org_x'"),
    (["incidents", "--scope", "all"], {}, 2, "invalid choice: 'all'"),
    (["versions", "--version", "v9"], {}, 2, "unknown API version 'v9'"),
    (["keys"], {}, 2, "the following arguments are required: --org"),
    (["keys", "--org", "org_nera"], {}, 2, "unknown organization 'org_nera'; did you mean 'org_near'?"),
    (["funnel", "--by", "org"], {}, 2, "invalid choice: 'org'"),
    (["retention", "--plan", "pri"], {}, 2, "unknown cohort plan 'pri'; did you mean 'pro'?"),
    (["retention", "--plan", ""], {}, 2, "argument --plan: expected a plan id, got an empty value"),
    (["alerts", "--pending", "--dead"], {}, 2, "not allowed with argument"),
    (["alerts", "replay", "--type", "frob"], {}, 2, "unknown alert type 'frob'; one of quota_threshold"),
    (["digest", "monthly"], {}, 2, "invalid choice: 'monthly' (choose from 'daily', 'weekly')"),
    (["digest", "weekly", "--preview", "--as-of", "soon"], {}, 2, "not a date (YYYY-MM-DD): 'soon'"),
    (["deliver"], {"ALERT_WEBHOOK_URL": "ftp://example"}, 2, "ALERT_WEBHOOK_URL must be an http"),
    (["erase"], {}, 2, "one of the arguments --org --developer is required"),
    (["erase", "--org", " "], {}, 2, "argument --org: an id cannot be empty"),
    (["generate", "--orgs", "0", "--out", "x"], {}, 2, "argument --orgs: expected 1 or more, got 0"),
    (["generate", "--end-date", "soon", "--out", "x"], {}, 2, "expected a date as YYYY-MM-DD"),
    (["generate", "--days", "13", "--out", "x"], {}, 2, "argument --days: expected 14 or more, got 13"),
    (["generate", "--out", ""], {}, 2, "argument --out: expected a folder, got an empty path"),
    (["dev", "--port", "0"], {}, 2, "expected a port from 1 to 65535"),
    (["plans"], {"PLANS_FILE": "/nonexistent/p.csv"}, 2, "PLANS_FILE /nonexistent/p.csv: no such file"),
    (["dashboard", "--port", "70000"], {}, 2, "expected a port from 0 to 65535, got 70000"),
    (["report", "--days", "0", "org_near"], {}, 2, "expected 1 or more days, got 0"),
    (["report", "org_nera"], {}, 2, "no organization 'org_nera' with a call in the warehouse; did you mean"),
    (["report", "--month", "2020-01", "org_near"], {}, 1, "org_near has no usage from 2020-01-01 to 2020-01"),
    (["report", "--out", "/dev/null", "org_near"], {}, 2, "--out /dev/null is a file, not a folder"),
    (["top"], {"WAREHOUSE_PATH": "/tmp/mine.duckdb"}, 2, "dbt takes the database name from the file name"),
    (["frobnicate"], {}, 2, "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(
    ("args", "extra", "code", "message"), BAD_INPUT, ids=[" ".join(a) for a, *_ in BAD_INPUT]
)
def test_bad_input_is_one_line_on_stderr_and_exit_1_or_2(built, tmp_path, args, extra, code, message) -> None:
    result = apiwh(built.env, *args, extra=extra, cwd=tmp_path)
    line = _one_line_error(result)
    assert result.returncode == code, result.stderr
    assert line.startswith("apiwh"), line
    assert message in line


def test_every_command_is_covered_by_the_bad_input_test() -> None:
    tested = {args[0] for args, *_ in BAD_INPUT}
    assert set(build_parser()._subparsers._group_actions[0].choices) <= tested


def test_load_with_a_missing_landing_folder_creates_no_warehouse(tmp_path) -> None:
    env = warehouse_env(tmp_path, RAW_DATA_DIR=str(tmp_path / "missing"))
    result = apiwh(env, "load")
    assert result.returncode == 2
    assert not (tmp_path / "data").exists()


HOLD_SCRIPT = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"
)


def test_a_busy_warehouse_names_the_process_holding_it(built, tmp_path) -> None:
    root = tmp_path / "busy"
    shutil.copytree(built.root / "data", root / "data")
    env = warehouse_env(root, RAW_DATA_DIR=str(built.root / "landing"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, env["WAREHOUSE_PATH"]],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = apiwh(env, "load")
    finally:
        holder.kill()
        holder.wait()
    line = _one_line_error(result)
    assert result.returncode == 1
    assert f"is in use by process {holder.pid} ({sys.executable} -c import duckdb" in line


def test_make_run_with_a_bad_as_of_is_one_line_and_no_traceback(tmp_path) -> None:
    env = warehouse_env(tmp_path, AS_OF="31/10/2026", RAW_DATA_DIR=str(PROJECT_ROOT / "seeds"))
    result = subprocess.run(
        # The secret salt `make run` makes goes to tmp_path, not to the checkout.
        ["make", "--no-print-directory", "run", f"IP_SALT_FILE={tmp_path / '.ip-hash-salt'}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    apiwh_lines = [line for line in result.stderr.splitlines() if line.startswith("apiwh")]
    assert apiwh_lines == ["apiwh run: error: AS_OF must be a date as YYYY-MM-DD, got '31/10/2026'"]
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------------------------------- help


def test_help_lists_every_command_and_each_has_its_own_help(capsys) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "--help"], capture_output=True, text=True
    )
    names = set(build_parser()._subparsers._group_actions[0].choices)
    expected = {
        "run",
        "load",
        "status",
        "rejects",
        "publish",
        "sql",
        "top",
        "quota",
        "endpoints",
        "incidents",
        "versions",
        "keys",
        "funnel",
        "retention",
        "alerts",
        "deliver",
        "generate",
        "dev",
    }
    assert expected <= names
    assert len(COMMANDS) >= 10
    for name in names:
        assert re.search(rf"^\s+{name}\b", listed.stdout, re.MULTILINE), name
        # Each command's own help from the parser `apiwh` builds, in this process: the top-level
        # help above shows that the entry point reaches that parser.
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args([name, "--help"])
        assert exited.value.code == 0 and f"usage: apiwh {name}" in capsys.readouterr().out


def test_the_readme_examples_run(built) -> None:
    """Every `apiwh` example of the README's examples block, on a real warehouse (the first one,
    `apiwh run`, is how `built` was made)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = readme.split("Examples (`tests/integration/test_repository_docs.py`", 1)[1].split("```sh\n", 1)[1]
    examples = [shlex.split(line)[1:] for line in block.split("```", 1)[0].splitlines() if line]
    assert examples[0] == ["run"] and len(examples) >= 8
    for args in examples[1:]:
        result = apiwh(built.env, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_run_full_refresh_rebuilds_and_loads_nothing_new(built, tmp_path) -> None:
    """Over a minute: a real `apiwh run --full-refresh` rebuilds every model from scratch."""
    root = tmp_path / "again"
    shutil.copytree(built.root / "data", root / "data")
    env = warehouse_env(
        root, RAW_DATA_DIR=str(built.root / "landing"), DAGSTER_HOME=built.env["DAGSTER_HOME"]
    )
    result = apiwh(env, "run", "--full-refresh", "--no-deliver", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(full refresh)" in result.stdout.splitlines()[0]
    assert "files   0 loaded, 0 empty, 0 failed, 1 already loaded" in result.stdout
    assert "alerts  0 new" in result.stdout
    log = (root / re.search(r"Full log: (\S+)", result.stdout).group(1)).read_text()
    assert "dbt build --full-refresh" in log
    # The marts are whole again after the rebuild.
    rows = apiwh(env, "sql", "select count(*) from marts.quota_utilization", "--format", "csv")
    assert rows.stdout.splitlines() == ["count_star()", "93"]


def test_an_as_of_after_the_data_is_refused_unless_allowed_and_then_nothing_is_sent(built, tmp_path) -> None:
    """AS_OF=2030-01-01 once recorded a churn alert for every account ("no API call for 1,158
    days") and would have sent them. About a minute because it must be: a real run refused, then
    a real run that rebuilds everything for the new as-of date."""
    root = tmp_path / "future"
    shutil.copytree(built.root, root)
    env = {**warehouse_env(root, IP_HASH_SALT=built.env["IP_HASH_SALT"]), "AS_OF": "2027-03-01"}
    alerts_file = root / "data" / "alerts.jsonl"
    sent_before = alerts_file.read_bytes()
    ledger = "select alert_key, status from marts.alerts order by 1"
    recorded_before = query(root / "data" / "warehouse.duckdb", ledger)

    refused = apiwh(env, "run")
    assert refused.returncode == 1
    assert (
        "AS_OF 2027-03-01 is after the last day with calls, 2026-10-31: nothing was built"
        " (`apiwh run --allow-future-as-of` builds it anyway and delivers no alert)" in refused.stdout
    )
    as_of_built = "select as_of_date::varchar from intermediate.int_as_of_date"
    assert query(root / "data" / "warehouse.duckdb", as_of_built) == [(AS_OF,)]

    allowed = apiwh(env, "run", "--allow-future-as-of")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "this run's new alerts were recorded dead and not delivered" in allowed.stdout
    held = query(
        root / "data" / "warehouse.duckdb",
        "select alert_type, last_error from marts.alerts where status = 'dead' and as_of_date = '2027-03-01'",
    )
    assert held and {t for t, _ in held} >= {"churn_risk"}
    assert {e for _, e in held} == {
        "held back: recorded with AS_OF after the last day with calls (--allow-future-as-of)"
    }
    # Nothing was sent but the refused run's own refresh_failed alert; what was there is unchanged.
    sent = alerts_file.read_bytes()
    assert sent.startswith(sent_before)
    new_lines = [json.loads(line) for line in sent[len(sent_before) :].splitlines()]
    assert [line["alert_type"] for line in new_lines] == ["refresh_failed"]
    assert set(recorded_before) <= set(query(root / "data" / "warehouse.duckdb", ledger))
