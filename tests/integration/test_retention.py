"""Retention per field class (docs/governance.md), through real `apiwh run`s on 61 generated days:
with RAW_RETENTION_DAYS=30 and IP_HASH_RETENTION_DAYS=7, raw keeps 30 days of calls and 7 of IP
hashes, the sealed days' day-grain marts do not move when a new day is loaded, a late event for a
sealed day is rejected `past retention`, every mart equals a warehouse that kept everything, and
a full rebuild that would lose the sealed days is refused without --allow-history-loss. The data
carries an endpoint incident on a sealed day: its hits outlive the calls they were counted from.

Slow (about two minutes) because it must be: two real refreshes, a reference build, and the
refused ones."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import pytest

from tests.incremental_support import generate_sample, marts_rows
from tests.support import api_request, apiwh, apiwh_run, load_events, query, run_dbt, write_ndjson

LAST_DAY = "2026-11-10"
ACCOUNT_EVENTS = "'quota_set', 'key_issued', 'key_revoked'"
FIRST_AS_OF = "2026-11-09"
RETENTION = {"RAW_RETENTION_DAYS": "30", "IP_HASH_RETENTION_DAYS": "7"}
# Counted back from the first as-of date: calls through 10-10 and IP hashes through 11-02 go;
# 11-02 is the last sealed day (the later of the two).
CALLS_GONE_THROUGH = "2026-10-10"
SEALED_THROUGH = "2026-11-02"
# Marts with one row per day (and key, route, customer...): a sealed day's rows never change.
DAY_GRAIN_MARTS = {
    "customer_daily_usage": "usage_date",
    "customer_endpoint_daily": "usage_date",
    "endpoint_daily_performance": "usage_date",
    "error_breakdown_daily": "usage_date",
    "key_daily_activity": "usage_date",
    "client_adoption_daily": "usage_date",
    "platform_daily_usage": "usage_date",
}


INCIDENT_DAY = "2026-10-05"


def _incident_on_a_sealed_day(organization: str) -> list[dict]:
    """A route of its own: 60 good calls a day for 15 days (its baseline), then 10 of 60 calls
    failing with a 5xx on INCIDENT_DAY, an endpoint incident on a day whose calls go."""
    events = []
    for day in range(16):
        date = dt.date.fromisoformat(INCIDENT_DAY) - dt.timedelta(days=15 - day)
        for call in range(60):
            status = 500 if day == 15 and call < 10 else 200
            at = f"{date}T10:{call:02d}:00Z"
            events.append(api_request(organization, at, status=status, endpoint="/v1/probe", key="probe_key"))
    return events


def _first_organization(generated: Path) -> str:
    for line in gzip.decompress(next(generated.rglob("*.ndjson.gz")).read_bytes()).splitlines():
        try:
            return json.loads(line)["consumer"]["organization_id"]
        except (ValueError, KeyError, TypeError):
            continue
    raise AssertionError("no organization in the generated files")


def _late_events(organization: str) -> list[dict]:
    """One call on a sealed day, one on a day still open."""
    return [
        api_request(organization, "2026-10-20T12:00:00Z", event_id="late_sealed", key="late_key"),
        api_request(organization, "2026-11-05T12:00:00Z", event_id="late_open", key="late_key"),
    ]


def _day_grain_rows(warehouse: Path, through: str) -> dict[str, list[tuple]]:
    return {
        table: query(warehouse, f"select * from marts.{table} where {day} <= ? order by all", [through])
        for table, day in DAY_GRAIN_MARTS.items()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    raw = generate_sample(tmp_path_factory.mktemp("retention-data") / "raw", orgs=3, days=61)
    write_ndjson(raw / "incident.ndjson", _incident_on_a_sealed_day(_first_organization(raw)))
    return raw


@pytest.fixture(scope="module")
def retained(tmp_path_factory, generated: Path):
    """The warehouse with retention after its first refresh (as of 11-09), its sealed days'
    day-grain marts then, and after a second refresh with the last day and two late calls."""
    root = tmp_path_factory.mktemp("retained")
    shutil.copytree(generated, root / "landing", ignore=shutil.ignore_patterns(f"*{LAST_DAY}*"))
    first = apiwh_run(root, **RETENTION)
    sealed_before = _day_grain_rows(first.warehouse, SEALED_THROUGH)
    raw_after_first = query(
        first.warehouse,
        f"""
        select
            min(cast(event_time as date)) filter (where event_type = 'api_request'),
            count(distinct cast(event_time as date)) filter (where event_type = 'api_request'),
            min(cast(event_time as date)) filter (where network_ip_hash is not null),
            count(*) filter (where event_type in ({ACCOUNT_EVENTS}) and cast(event_time as date) <= ?)
        from raw.events
        """,
        [CALLS_GONE_THROUGH],
    )[0]
    organization = _first_organization(generated)
    shutil.copy2(next(generated.rglob(f"*{LAST_DAY}*")), root / "landing")
    write_ndjson(root / "landing" / "late.ndjson", _late_events(organization))
    second = apiwh_run(root, **RETENTION)
    return {
        "built": second,
        "organization": organization,
        "sealed_before": sealed_before,
        "raw_after_first": raw_after_first,
    }


@pytest.fixture(scope="module")
def kept_everything(tmp_path_factory, generated: Path, retained) -> Path:
    """The same files without retention, less the late call on a sealed day (rejected there):
    loaded and built by dbt as a run does (the alert ledger, Dagster's, is not compared)."""
    root = tmp_path_factory.mktemp("kept-everything")
    shutil.copytree(generated, root / "landing")
    write_ndjson(root / "landing" / "late.ndjson", _late_events(retained["organization"])[1:])
    warehouse = root / "warehouse.duckdb"
    load_events(root / "landing", warehouse)
    run_dbt(warehouse, "run", as_of=LAST_DAY)
    return warehouse


def test_raw_keeps_30_days_of_calls_and_7_of_ip_hashes_but_every_account_event(retained, kept_everything):
    first_call_day, call_days, first_day_with_ip, old_state_events = retained["raw_after_first"]
    assert (str(first_call_day), call_days) == ("2026-10-11", 30)
    # No hash is left through the sealed day; the next day has its hashes.
    assert str(first_day_with_ip) == "2026-11-03"
    # Quota changes and key events are account state: every one older than the calls stays
    # (events of an unknown type are payloads: they go with the calls).
    everything = query(
        kept_everything,
        f"""
        select count(*) from raw.events
        where event_type in ({ACCOUNT_EVENTS}) and cast(event_time as date) <= ?
            and source_file not like '%{LAST_DAY}%'
        """,
        [CALLS_GONE_THROUGH],
    )[0][0]
    assert old_state_events == everything > 0
    warehouse = retained["built"].warehouse
    seals = query(warehouse, "select field_class, sealed_through from raw.retention_seals order by all")
    assert [(c, str(d)) for c, d in seals] == [
        ("call_payloads", CALLS_GONE_THROUGH),
        ("call_payloads", "2026-10-11"),
        ("ip_hashes", SEALED_THROUGH),
        ("ip_hashes", "2026-11-03"),
    ]
    staged_days = query(warehouse, "select count(distinct request_date) from staging.stg_api_requests")[0][0]
    assert staged_days == 30


def test_the_sealed_days_marts_stay_and_their_late_event_is_rejected(retained):
    warehouse = retained["built"].warehouse
    assert _day_grain_rows(warehouse, SEALED_THROUGH) == retained["sealed_before"]
    assert any(rows for rows in retained["sealed_before"].values())
    # The incident's day is sealed: its hits stay, though raw no longer has its calls.
    hits = query(
        warehouse,
        "select route, organization_id, server_errors from intermediate.int_endpoint_incident_hits"
        " where usage_date = ?",
        [INCIDENT_DAY],
    )
    assert hits == [("/v1/probe", retained["organization"], 10)]
    assert query(
        warehouse, "select count(*) from staging.stg_api_requests where request_date = ?", [INCIDENT_DAY]
    ) == [(0,)]
    rejects = query(
        warehouse,
        "select reason, snippet from raw.event_rejects where source_file like '%late.ndjson' order by all",
    )
    assert rejects == [("past retention", None)]
    loaded = query(warehouse, "select event_id from raw.events where api_key_id = 'late_key'")
    assert loaded == [("late_open",)]


def test_every_mart_equals_a_warehouse_that_kept_everything(retained, kept_everything):
    retained_marts = marts_rows(retained["built"].warehouse)
    reference = marts_rows(kept_everything)
    health = query(retained["built"].warehouse, "select rejected_lines, events from marts.data_health")
    reference_health = query(kept_everything, "select rejected_lines, events from marts.data_health")
    # The one difference: the late call on a sealed day, a reject there, never sent here.
    assert health == [(reference_health[0][0] + 1, reference_health[0][1])]
    # Every dbt mart (the reference has no alert ledger: Dagster's, not dbt's).
    assert set(reference) <= set(retained_marts)
    assert [t for t in sorted(reference) if t != "data_health" and retained_marts[t] != reference[t]] == []


def test_a_full_rebuild_or_an_erase_that_would_lose_sealed_days_is_refused(retained):
    built = retained["built"]
    refused = apiwh(built.env, "run", "--full-refresh", "--no-deliver", cwd=built.root)
    assert refused.returncode != 0
    assert "--allow-history-loss" in refused.stdout + refused.stderr
    # The second refresh (as of 11-10) sealed one day more.
    assert "the calls through 2026-11-03 (past retention)" in refused.stdout + refused.stderr
    # An erase rebuilds every model from raw too.
    erase = apiwh(built.env, "erase", "--org", retained["organization"])
    assert erase.returncode == 1
    assert (
        "erase rebuilds every model from raw, which no longer holds the calls through 2026-11-03"
        in erase.stderr
    )
    status = apiwh(built.env, "status")
    assert "Retention: call payloads 30 days (gone through 2026-10-11), IP hashes 7 days" in status.stdout


def test_a_shorter_retention_applies_though_nothing_is_new(retained):
    """Runs after the refusals (file order): the warehouse is up to date, yet the days now past
    a shorter IP retention are sealed by the next run, and the run after it builds nothing. Over
    a minute because it must be: two real refreshes of the 61 days."""
    built = retained["built"]
    shorter = {**built.env, "IP_HASH_RETENTION_DAYS": "5"}
    run = apiwh(shorter, "run", "--no-deliver", cwd=built.root)
    assert run.returncode == 0, run.stdout + run.stderr
    sealed = "select max(sealed_through)::varchar from raw.retention_seals where field_class = 'ip_hashes'"
    assert query(built.warehouse, sealed) == [("2026-11-05",)]
    hashes = (
        "select count(*) from raw.events where network_ip_hash is not null and cast(event_time as date) <= ?"
    )
    assert query(built.warehouse, hashes, ["2026-11-05"]) == [(0,)]
    seals = "select count(*) from raw.retention_seals"
    (recorded,) = query(built.warehouse, seals)[0]
    again = apiwh(shorter, "run", "--no-deliver", cwd=built.root)
    # Up to date now: no build, no snapshot, no seal.
    assert again.returncode == 0 and "marts   0 tables published" in again.stdout, again.stdout
    assert query(built.warehouse, seals) == [(recorded,)]
