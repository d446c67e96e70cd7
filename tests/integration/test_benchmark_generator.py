"""The benchmark's data generator writes clean contract-format files the loader takes whole."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from benchmarks.generate import write_days
from orchestration.warehouse import connect
from tests.support import load_events


@pytest.mark.parametrize("file_format", ["gzip", "plain", "parquet"])
def test_generated_days_load_clean_with_every_call_and_the_other_events(
    tmp_path: Path, file_format: str
) -> None:
    landing = tmp_path / "landing"
    written = write_days(landing, events=3_000, days=3, file_format=file_format)
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        report = load_events(landing, con)
        calls_per_day = con.execute(
            "select cast(event_time as date), count(*) from raw.events "
            "where event_type = 'api_request' group by 1 order by 1"
        ).fetchall()
        others = con.execute(
            "select event_type, count(*) from raw.events where event_type <> 'api_request' group by 1"
        ).fetchall()
        distinct_ids = con.execute("select count(distinct event_id) = count(*) from raw.events").fetchall()
        paths = con.execute("select count(*) from raw.events where route is not null").fetchall()
    finally:
        con.close()

    assert written == 3_000
    assert [f.read_path for f in report.files] == ["fast"] * 3
    assert report.rejects == 0
    assert [count for _, count in calls_per_day] == [1_000, 1_000, 1_000]
    assert [str(day) for day, _ in calls_per_day] == ["2026-09-01", "2026-09-02", "2026-09-03"]
    # The sample's quotas and keys come along once, so quota and key marts have data too.
    assert {"quota_set", "key_issued"} <= {event_type for event_type, _ in others}
    assert distinct_ids == [(True,)]
    assert paths[0][0] > 0  # the sample's shapes: some calls carry api.route


def test_more_calls_than_the_sample_has_are_new_customers(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_days(landing, events=150_000, days=1)  # the sample has about 144k calls
    with gzip.open(landing / "events-2026-09-01.ndjson.gz", "rt") as handle:
        organizations = {line.split('"organization_id":"', 1)[1].split('"', 1)[0] for line in handle}
    assert any(org.endswith("_r1") for org in organizations)
    assert any("_r" not in org for org in organizations)
