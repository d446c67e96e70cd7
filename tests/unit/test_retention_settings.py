"""Retention per field class (docs/governance.md), the parts that need no dbt: the settings'
bounds, and the loader keeping a sealed day's late events out as `past retention` rejects
(the whole refresh is in tests/integration/test_retention.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.settings import SettingsError, load_settings
from orchestration.warehouse import connect
from tests.support import api_request, load_events, quota_set, write_ndjson


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAW_RETENTION_DAYS", "IP_HASH_RETENTION_DAYS", "WAREHOUSE_ENGINE"):
        monkeypatch.delenv(name, raising=False)


def test_unset_keeps_everything_and_set_is_read_as_days(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (load_settings().raw_retention_days, load_settings().ip_hash_retention_days) == (None, None)
    monkeypatch.setenv("RAW_RETENTION_DAYS", "90")
    monkeypatch.setenv("IP_HASH_RETENTION_DAYS", "7")
    assert (load_settings().raw_retention_days, load_settings().ip_hash_retention_days) == (90, 7)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAW_RETENTION_DAYS", "29", "RAW_RETENTION_DAYS must be at least 30 (the 30-day marts read"),
        ("IP_HASH_RETENTION_DAYS", "0", "IP_HASH_RETENTION_DAYS must be at least 1 (the as-of date is kept)"),
        ("RAW_RETENTION_DAYS", "a month", "RAW_RETENTION_DAYS must be an integer, got 'a month'"),
    ],
)
def test_a_retention_too_short_for_the_marts_is_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings()


def test_retention_with_the_spark_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_ENGINE", "spark")
    monkeypatch.setenv("IP_HASH_RETENTION_DAYS", "7")
    with pytest.raises(SettingsError, match="apply to the DuckDB warehouse only"):
        load_settings()


def test_a_late_event_for_a_sealed_day_is_a_reject_without_its_payload(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    load_events(
        write_ndjson(
            tmp_path / "first" / "day.ndjson", [api_request("org_a", "2026-03-10T10:00:00Z")]
        ).parent,
        warehouse,
    )
    with connect(warehouse) as con:
        con.execute(
            "insert into raw.retention_seals values ('call_payloads', ?, ?, 0, current_timestamp)",
            [dt.date(2026, 3, 5), dt.date(2026, 4, 3)],
        )
    late = [
        api_request("org_a", "2026-03-05T23:59:59Z", event_id="sealed_call"),
        quota_set("org_a", "2026-03-01T00:00:00Z", 1000, event_id="sealed_quota"),
        api_request("org_a", "2026-03-06T00:00:00Z", event_id="open_call"),
    ]
    report = load_events(write_ndjson(tmp_path / "later" / "late.ndjson", late).parent, warehouse)
    assert (report.events, report.rejects) == (1, 2)
    with connect(warehouse) as con:
        rejects = con.execute(
            "select line_number, reason, snippet from raw.event_rejects order by line_number"
        ).fetchall()
        kept = con.execute("select event_id from raw.events where source_file like '%late%'").fetchall()
        counts = con.execute(
            "select lines, events, rejects from raw.loaded_files where path like '%late%'"
        ).fetchall()
    assert rejects == [(1, "past retention", None), (2, "past retention", None)]
    assert kept == [("open_call",)]
    assert counts == [(3, 1, 2)]
