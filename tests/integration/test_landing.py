"""The raw tables landed as Parquet for Spark (orchestration/loading/landing.py) and the one
setting that picks the engine (WAREHOUSE_ENGINE)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.raw import raw_events
from orchestration.loading.landing import land_raw_tables
from orchestration.settings import SettingsError, load_settings
from orchestration.warehouse import connect
from tests.support import api_request, load_events, query, resources_from_env, write_ndjson


def _parquet_rows(folder: Path, columns: str) -> list[tuple]:
    con = connect(folder.parent / "reader" / "warehouse.duckdb")
    try:
        return con.execute(
            f"select {columns} from read_parquet(?) order by all", [str(folder / "*.parquet")]
        ).fetchall()
    finally:
        con.close()


def test_each_load_lands_once_with_the_same_rows_and_rejects(tmp_path: Path) -> None:
    raw, warehouse, landing = tmp_path / "raw", tmp_path / "db" / "warehouse.duckdb", tmp_path / "landing"
    write_ndjson(raw / "a.ndjson", [api_request("org_a", "2026-03-01T10:00:00Z", event_id="e1"), "{not json"])
    load_events(raw, warehouse)
    con = connect(warehouse)
    try:
        assert land_raw_tables(con, landing) == [1]
        assert land_raw_tables(con, landing) == []  # nothing new: nothing written again
    finally:
        con.close()
    write_ndjson(raw / "b.ndjson", [api_request("org_b", "2026-03-02T10:00:00Z", event_id="e2")])
    load_events(raw, warehouse)
    (landing / "events" / "load_00000001.parquet").unlink()  # as if a crash lost it
    con = connect(warehouse)
    try:
        assert land_raw_tables(con, landing) == [1, 2]
    finally:
        con.close()

    columns = "load_id, event_id, organization_id, network_ip_hash, payload_md5"
    assert _parquet_rows(landing / "events", columns) == query(
        warehouse, f"select {columns} from raw.events order by all"
    )
    assert _parquet_rows(landing / "event_rejects", "load_id, line_number, reason") == [
        (1, 2, query(warehouse, "select reason from raw.event_rejects")[0][0])
    ]
    assert _parquet_rows(landing / "loaded_files", "load_id, status, events, rejects") == [
        (1, "loaded", 1, 1),
        (2, "loaded", 1, 0),
    ]
    assert not list(landing.rglob("_*"))  # no partial file left behind


def test_warehouse_engine_is_checked_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_ENGINE", "Spark")
    assert load_settings().dbt_target == "spark"
    monkeypatch.delenv("WAREHOUSE_ENGINE")
    assert load_settings().dbt_target == "local"
    monkeypatch.setenv("WAREHOUSE_ENGINE", "postgres")
    with pytest.raises(
        SettingsError, match="^WAREHOUSE_ENGINE must be one of duckdb, spark, got 'postgres'$"
    ):
        load_settings()


def test_the_raw_asset_lands_parquet_when_the_engine_is_spark(
    pipeline_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ndjson(pipeline_env["landing"] / "a.ndjson", [api_request("org_a", "2026-03-01T10:00:00Z")])
    monkeypatch.setenv("WAREHOUSE_ENGINE", "spark")
    monkeypatch.delenv("LANDING_DIR", raising=False)
    landing = pipeline_env["warehouse"].parent / "landing"
    assert dg.materialize([raw_events], resources=resources_from_env()).success
    assert sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*.parquet")) == [
        "event_rejects/load_00000001.parquet",
        "events/load_00000001.parquet",
        "loaded_files/loaded_files.parquet",
    ]
