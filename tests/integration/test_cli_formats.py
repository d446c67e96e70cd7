"""Every listing command as a machine reads it (`--format csv|json`), and the answers of issue 24
through the command line, on the bundled sample (`apiwh run` on seeds/, once per session): the
rows are the marts' rows, keyed by the marts' column names, with the marts' values."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date

import pytest

from orchestration.verdict_words import outcome_cell
from tests.shared_builds import sample_run
from tests.support import APIWH, BuiltWarehouse, apiwh, query

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def sample(shared) -> BuiltWarehouse:
    return sample_run(shared)


def _json_lines(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _mart_columns(sample: BuiltWarehouse, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = query(
        sample.warehouse,
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name],
    )
    return [column for (column,) in rows]


# (the command, the table whose columns every key is, how many rows the mart has for it or None)
LISTINGS = [
    (["top"], "marts.customer_usage_summary", "select count(*) from marts.customer_usage_summary"),
    (
        ["quota", "--min-pct", "0"],
        "marts.quota_outlook marts.quota_utilization",  # with the day's calls and failures
        "select count(*) from marts.quota_outlook",
    ),
    (["quota", "--outcomes"], "marts.quota_outcomes", "select count(*) from marts.quota_outcomes"),
    (
        ["endpoints", "--days", "30"],
        "marts.endpoint_window_performance",
        "select count(*) from marts.endpoint_window_performance where window_days = 30",
    ),
    (["endpoints", "--org", "org_28c06f"], "marts.customer_endpoint_30d", None),
    (["incidents"], "marts.endpoint_incidents", None),
    (
        ["versions"],
        "marts.api_version_exposure",
        "select count(*) from marts.api_version_exposure where version_source = 'header'",
    ),
    (
        ["versions", "--version", "v1"],
        "marts.api_path_version_exposure",
        "select count(*) from marts.api_path_version_exposure where api_version = 'v1'",
    ),
    (
        ["keys", "--org", "org_28c06f"],
        "marts.key_activity_30d",
        "select count(*) from marts.key_activity_30d where organization_id = 'org_28c06f'",
    ),
    (["keys", "--org", "org_28c06f", "--daily"], "marts.key_daily_activity", None),
    (["funnel"], "marts.onboarding_funnel_weekly", "select count(*) from marts.onboarding_funnel_weekly"),
    (["funnel", "--by", "plan"], "marts.onboarding_funnel_summary", None),
    (["retention"], "marts.cohort_retention", "select count(*) from marts.cohort_retention"),
    (["alerts"], "marts.alerts", "select count(*) from marts.alerts"),
    (["rejects"], "raw.event_rejects", "select count(*) from raw.event_rejects"),
]


@pytest.mark.parametrize(("args", "table", "count_sql"), LISTINGS, ids=[" ".join(a) for a, *_ in LISTINGS])
def test_json_and_csv_carry_the_marts_columns_and_every_row(
    sample: BuiltWarehouse, args: list[str], table: str, count_sql: str | None
) -> None:
    columns = {column for name in table.split() for column in _mart_columns(sample, name)}
    rows = _json_lines(sample.apiwh(*args, "--format", "json"))
    assert rows, args
    for row in rows:
        # incidents nests the customers each one hit (marts.endpoint_incident_customers), alerts
        # the destinations still owed each alert (marts.alert_deliveries).
        assert set(row) - {"customers", "owed_sinks"} <= columns, set(row) - columns
    if count_sql:  # csv and json: every row, whatever the table's default limit
        assert len(rows) == query(sample.warehouse, count_sql)[0][0]
    table_csv = sample.apiwh(*args, "--format", "csv")
    assert table_csv.returncode == 0, table_csv.stderr
    parsed = list(csv.reader(io.StringIO(table_csv.stdout)))
    assert set(parsed[0]) <= columns | {"organization_id", "calls", "slow_calls", "owed_sinks"}
    assert len(sample.apiwh(*args, "--format", "json", "--limit", "1").stdout.splitlines()) == 1


@pytest.mark.parametrize("args", [a for a, *_ in LISTINGS], ids=[" ".join(a) for a, *_ in LISTINGS])
def test_tables_fit_120_columns_when_not_on_a_terminal(sample: BuiltWarehouse, args: list[str]) -> None:
    """Piped or in a file, the width is 120 (COLUMNS unset): a wider table wraps into blocks
    of columns, each starting with the row's name, and titles and notes wrap as prose."""
    env = {name: value for name, value in sample.env.items() if name != "COLUMNS"}
    result = apiwh(env, *args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # A rejected line's snippet is the input as it came, shown whole.
    wide = [line for line in lines if len(line) > 120 and not line.startswith("      ")]
    assert wide == [], "\n".join(wide)
    if args == ["top"]:  # 11 columns with the 30-day sparkline: two blocks, both naming the row
        blocks = [n for n, line in enumerate(lines) if line.lstrip().startswith("#  ORGANIZATION")]
        assert len(blocks) == 2 and "DAILY CALLS" in lines[blocks[1]]
        assert lines[blocks[0] + 2].split()[:2] == lines[blocks[1] + 2].split()[:2]


def test_top_json_is_the_marts_rows_with_the_upsell_signal(sample: BuiltWarehouse) -> None:
    rows = _json_lines(sample.apiwh("top", "--format", "json"))
    expected = query(
        sample.warehouse,
        "select organization_id, is_upsell_signal, usage_change_30d_pct from marts.customer_usage_summary"
        " order by rank_30d",
    )
    assert [(r["organization_id"], r["is_upsell_signal"], r["usage_change_30d_pct"]) for r in rows] == [
        tuple(row) for row in expected
    ]
    table = sample.apiwh("top", "--limit", "40").stdout
    marked = {line.split()[1] for line in table.splitlines() if "★ upsell" in line}
    assert marked == {org for org, upsell, _ in expected if upsell}


@pytest.mark.parametrize("days", [1, 7, 30])
def test_endpoints_days_read_the_window_mart(sample: BuiltWarehouse, days: int) -> None:
    rows = _json_lines(sample.apiwh("endpoints", "--days", str(days), "--format", "json"))
    expected = query(
        sample.warehouse,
        "select route, method, calls, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms"
        " from marts.endpoint_window_performance where window_days = ? order by calls desc, route, method",
        [days],
    )
    figures = ("route", "method", "calls", "error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
    assert [tuple(row[name] for name in figures) for row in rows] == [tuple(row) for row in expected]
    table = sample.apiwh("endpoints", "--days", str(days)).stdout
    calls = "the 1 day's calls" if days == 1 else f"the {days} days' calls"
    assert f"p95 over {calls}" in " ".join(table.split())
    route, method, _, _, _, p95, _ = expected[0]
    first = table.splitlines()[3].split()
    assert first[:2] == [method, route] and first[5] == f"{p95:,.1f}"


def test_endpoints_days_other_than_the_marts_windows_is_exit_2(sample: BuiltWarehouse) -> None:
    result = sample.apiwh("endpoints", "--days", "5")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "apiwh endpoints: error: argument --days: expected 1, 7 or 30 (the windows of"
        " marts.endpoint_window_performance), got 5 (see `apiwh endpoints --help`)"
    ]
    with_org = sample.apiwh("endpoints", "--org", "org_28c06f", "--days", "7")
    assert with_org.returncode == 2 and "marts.customer_endpoint_30d" in with_org.stderr


def test_incidents_list_the_customers_of_the_mart(sample: BuiltWarehouse) -> None:
    incidents = _json_lines(sample.apiwh("incidents", "--format", "json"))
    hits = query(
        sample.warehouse,
        "select route, method, usage_date, organization_id from marts.endpoint_incident_customers",
    )
    listed = {
        (incident["route"], incident["method"], incident["usage_date"], customer["organization_id"])
        for incident in incidents
        for customer in incident["customers"]
    }
    in_window = {(r, m, str(d), o) for r, m, d, o in hits if (AS_OF - d).days < 30}
    assert listed == in_window
    assert all(len(incident["customers"]) == incident["affected_customers"] for incident in incidents)
    (one_org,) = {o for *_, o in in_window if o == "org_28c06f"} or {next(iter(in_window))[3]}
    only = _json_lines(sample.apiwh("incidents", "--org", one_org, "--format", "json"))
    assert only and all(one_org in {c["organization_id"] for c in i["customers"]} for i in only)
    csv_rows = list(csv.DictReader(io.StringIO(sample.apiwh("incidents", "--format", "csv").stdout)))
    assert {(r["route"], r["method"], r["usage_date"], r["organization_id"]) for r in csv_rows} == in_window


def test_versions_v1_answers_for_the_paths_version(sample: BuiltWarehouse) -> None:
    result = sample.apiwh("versions", "--version", "v1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "Customers calling API version v1, read from the path (/v1/... is v1), over 30 days"
    )
    expected = query(
        sample.warehouse,
        "select organization_id, calls_30d from marts.api_path_version_exposure"
        " where api_version = 'v1' order by calls_30d desc, organization_id",
    )
    assert len(expected) > 20
    rows = [line.split()[1:3] for line in lines if line.startswith("v1 ")]
    assert rows == [[org, f"{calls:,}"] for org, calls in expected]
    as_json = _json_lines(sample.apiwh("versions", "--version", "v1", "--format", "json"))
    assert {row["version_source"] for row in as_json} == {"path"}
    assert [(row["organization_id"], row["calls_30d"]) for row in as_json] == [tuple(row) for row in expected]
    # Every call counts once in each mart: the path's calls are the header's.
    ((header_calls, path_calls),) = query(
        sample.warehouse,
        "select (select sum(calls_30d) from marts.api_version_exposure),"
        " (select sum(calls_30d) from marts.api_path_version_exposure)",
    )
    assert header_calls == path_calls
    header = sample.apiwh("versions", "--version", "2026-06-01")
    assert "read from the api.version header" in header.stdout.splitlines()[0]
    wrong_source = sample.apiwh("versions", "--version", "v1", "--source", "header")
    assert wrong_source.returncode == 2
    assert "unknown API version 'v1'" in wrong_source.stderr and "Traceback" not in wrong_source.stderr


def test_quota_upgrade_net_and_the_too_small_mark_are_the_marts(sample: BuiltWarehouse) -> None:
    expected = query(
        sample.warehouse,
        "select organization_id, next_plan_id, fits_next_plan, upgrade_net_cost_at_pace"
        " from marts.quota_outlook where next_plan_id is not null and pct_of_cap >= 50",
    )
    assert expected  # the sample has accounts with a next plan at 50%+ of their cap
    table = sample.apiwh("quota").stdout.splitlines()
    assert "UPGRADE NET" in table[1]
    for org, next_plan, fits, net in expected:
        (row,) = [line for line in table if line.startswith(f"{org} ")]
        mark = " *" if fits is False else ""  # even the next plan is too small at this pace
        assert f" {next_plan}{mark} " in row
        assert row.split()[-1] == f"{'+' if net > 0 else '-' if net < 0 else ''}${abs(net):,.2f}"
    rows = _json_lines(sample.apiwh("quota", "--min-pct", "0", "--format", "json"))
    marts = dict(
        query(sample.warehouse, "select organization_id, upgrade_net_cost_at_pace from marts.quota_outlook")
    )
    assert {row["organization_id"]: row["upgrade_net_cost_at_pace"] for row in rows} == marts


def test_quota_outcomes_show_each_month_at_80_pct_and_what_followed(sample: BuiltWarehouse) -> None:
    expected = query(
        sample.warehouse,
        "select organization_id, strftime(billing_month, '%Y-%m'), peak_band, limit_at_month_end,"
        " next_month_limit, outcome, is_next_month_complete from marts.quota_outcomes"
        " order by billing_month desc, peak_band desc, organization_id",
    )
    # The sample's months at 80%+ before October: one upgrade, 429s absorbed, the rest unchanged.
    assert {row[5] for row in expected} == {"upgraded", "absorbed_429s", "unchanged"}
    result = sample.apiwh("quota", "--outcomes")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == [
        "MONTH",
        "ACCOUNT",
        "PEAK",
        "LIMIT",
        "429S",
        "NEXT",
        "MONTH",
        "LIMIT",
        "NEXT",
        "MONTH",
        "CALLS",
        "OUTCOME",
    ]
    rows = [line for line in lines if line[:4].isdigit()]
    assert len(rows) == len(expected)
    for row, (org, month, peak, limit, next_limit, outcome, complete) in zip(rows, expected, strict=True):
        assert row.split()[:4] == [month, org, f"{peak}%", f"{limit:,}"]
        assert row.split()[5] == f"{next_limit:,}"
        assert row.endswith(outcome_cell(outcome, complete))
    assert any(row.endswith(" upgraded") for row in rows)
    assert any(row.endswith(" absorbed the 429s") for row in rows)
    only = _json_lines(sample.apiwh("quota", "--outcomes", "--org", "org_0b6a8a", "--format", "json"))
    assert [(r["billing_month"], r["outcome"], r["next_month_limit"]) for r in only] == [
        (str(month) + "-01", outcome, next_limit)
        for org, month, _, _, next_limit, outcome, _ in expected
        if org == "org_0b6a8a"
    ]


def test_keys_list_each_key_of_the_30_day_mart(sample: BuiltWarehouse) -> None:
    expected = query(
        sample.warehouse,
        "select api_key_id, calls_30d, active_days_30d, last_call_date, last_day_calls"
        " from marts.key_activity_30d where organization_id = 'org_28c06f'"
        " order by calls_30d desc, api_key_id",
    )
    lines = sample.apiwh("keys", "--org", "org_28c06f").stdout.splitlines()
    rows = [line.split()[:5] for line in lines if line.startswith("key_")]
    assert rows == [
        [key, f"{calls:,}", str(days), str(last), f"{last_calls:,}"]
        for key, calls, days, last, last_calls in expected
    ]


def test_endpoints_org_shows_failed_calls_by_error_type_from_the_mart(sample: BuiltWarehouse) -> None:
    expected = query(
        sample.warehouse,
        "select status_class, error_type, failed_calls_30d from marts.error_breakdown_30d"
        " where organization_id = 'org_28c06f'"
        " order by failed_calls_30d desc, status_class, error_type limit 5",
    )
    assert expected
    text = " ".join(sample.apiwh("endpoints", "--org", "org_28c06f").stdout.split())
    shown = ", ".join(
        f"{status_class} {error_type} {calls:,}" for status_class, error_type, calls in expected
    )
    assert f"Failed calls by error type, 30 days (marts.error_breakdown_30d): {shown}." in text


def test_quota_for_the_account_at_98_9_pct_on_the_months_last_day(sample: BuiltWarehouse) -> None:
    ((outlook, action),) = query(
        sample.warehouse,
        "select outlook, action from marts.quota_outlook where organization_id = 'org_28c06f'",
    )
    assert (outlook, action) == ("resets_first", "UPSELL NOW")
    result = sample.apiwh("quota", "--org", "org_28c06f")
    assert result.returncode == 0, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("org_28c06f")]
    assert "98.9%" in row and "resets on Nov 1" in row and "UPSELL NOW" in row
    assert "days" not in row and "CRITICAL" not in row
    (as_json,) = _json_lines(sample.apiwh("quota", "--org", "org_28c06f", "--format", "json"))
    assert (as_json["outlook"], as_json["action"], as_json["resets_on"]) == (outlook, action, "2026-11-01")


def test_sql_says_when_it_cut_rows_and_only_then(sample: BuiltWarehouse) -> None:
    (total,) = query(sample.warehouse, "select count(*) from marts.customer_usage_summary")[0]
    sql = "select organization_id from marts.customer_usage_summary order by 1"
    cut = sample.apiwh("sql", sql, "--format", "csv", "--limit", "3")
    assert len(cut.stdout.splitlines()) == 4  # the header and 3 rows
    assert cut.stderr == f"apiwh sql: showing 3 of {total} rows; --limit to change\n"
    whole = sample.apiwh("sql", sql, "--format", "json")
    assert len(whole.stdout.splitlines()) == total and whole.stderr == ""
    table = sample.apiwh("sql", sql, "--limit", "3")
    assert table.stderr.startswith(f"showing 3 of {total} rows; --limit to change; marts as of")


def test_a_reader_that_stops_early_gets_no_traceback_and_a_clean_exit(sample) -> None:
    """`apiwh sql ... | head -1`: the command exits 0 and says nothing on stderr, though the
    console script exits without the interpreter's teardown (orchestration/cli.py run)."""
    listing = subprocess.Popen(
        [APIWH, "sql", "select range from range(200000)", "--format", "csv", "--limit", "200000"],
        env=sample.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert listing.stdout.readline() == b"range\n"
    listing.stdout.close()
    assert listing.wait(timeout=60) == 0
    assert listing.stderr.read() == b""
