"""The Dagster code location end to end: definitions, daily_refresh into a temporary warehouse,
idempotent reruns, the published snapshot and the CLI reading it."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration.cli import main as apiwh
from orchestration.definitions import defs
from tests.support import api_request, key_issued, query, quota_set, write_ndjson

pytestmark = pytest.mark.usefixtures("dbt_manifest")

CANARY_IP = "192.0.2.201"


def _sample_events() -> list[dict]:
    events = [
        key_issued("org_a", "2026-10-01T08:00:00Z", "key_a", plan="pro"),
        quota_set("org_a", "2026-10-01T08:00:00Z", 1000, plan="pro"),
    ]
    for day in range(1, 4):
        for i in range(5):
            events.append(
                api_request(
                    "org_a",
                    f"2026-10-0{day}T09:{i:02d}:00Z",
                    key="key_a",
                    endpoint=f"/v1/orders/{100 + i}",
                    event_id=f"a-{day}-{i}",
                )
            )
    # A redelivered event (same id, later file) and a client retry (new id, same idempotency key).
    events.append(events[2] | {"received_at": "2026-10-04T00:00:00Z"})
    events.append(api_request("org_a", "2026-10-03T09:00:01Z", event_id="retry", idempotency_key="k1"))
    # The same id again with another payload: a producer bug, reported, first copy kept.
    events.append(events[3] | {"result": {"status_code": 503}})
    # A client IP on a valid event and on a rejected one: it must never be written in clear.
    events[4]["network"] = {"ip": CANARY_IP}
    events.append(api_request("org_a", "2026-10-03T10:00:00Z", status=700, network={"ip": CANARY_IP}))
    return events


def _row_counts(warehouse) -> dict[str, int]:
    tables = query(warehouse, "select schema_name, table_name from duckdb_tables() order by 1, 2")
    return {
        f"{schema}.{table}": query(warehouse, f'select count(*) from "{schema}"."{table}"')[0][0]
        for schema, table in tables
    }


def _refresh() -> dg.ExecuteInProcessResult:
    job = defs().resolve_job_def("daily_refresh")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance)


def test_daily_refresh_end_to_end_is_idempotent(pipeline_env, tmp_path, capsys) -> None:
    write_ndjson(pipeline_env["landing"] / "day1.ndjson", _sample_events()[:10])
    write_ndjson(pipeline_env["landing"] / "later" / "day2.ndjson", _sample_events()[10:])
    warehouse = pipeline_env["warehouse"]

    first = _refresh()

    assert first.success
    raw_meta = first.asset_materializations_for_node("raw__events")[0].metadata
    assert raw_meta["files_loaded"].value == 2 and raw_meta["events_loaded"].value == 20
    assert raw_meta["lines_rejected"].value == 1
    checks = {c.check_name: c.passed for c in first.get_asset_check_evaluations()}
    assert checks["no_rejected_lines"] is False and checks["no_failed_files"] is True
    assert query(warehouse, "select count(*), count(distinct event_id) from raw.events") == [(20, 18)]
    # The redelivered copy counts once; the client retry is a real call.
    assert query(warehouse, "select count(*) from staging.stg_api_requests") == [(16,)]
    assert query(warehouse, "select distinct route from staging.stg_api_requests order by 1") == [
        ("/v1/items",),
        ("/v1/orders/{id}",),
    ]
    counts_before = _row_counts(warehouse)
    usage_before = query(warehouse, "select * from marts.customer_daily_usage order by all")
    # An analyst keeps the published snapshot open while the next run publishes a new one.
    snapshot = warehouse.parent / "published" / "warehouse.duckdb"
    analyst = duckdb.connect(str(snapshot), read_only=True)

    second = _refresh()

    assert second.success
    raw_meta = second.asset_materializations_for_node("raw__events")[0].metadata
    assert raw_meta["files_loaded"].value == 0 and raw_meta["files_skipped"].value == 2
    assert query(warehouse, "select count(*) from raw.events") == [(20,)]
    assert analyst.execute("select sum(calls) from marts.customer_daily_usage").fetchall() == [(16,)]
    analyst.close()
    assert query(warehouse, "select * from marts.customer_daily_usage order by all") == usage_before
    assert _row_counts(warehouse) == counts_before

    # Readers use the published snapshot, which holds the marts.
    assert query(snapshot, "select sum(calls) from marts.customer_daily_usage") == [(16,)]
    capsys.readouterr()
    assert apiwh(["status"]) == 0
    out = capsys.readouterr().out
    assert "raw.events 20 rows (18 distinct event ids)" in out
    assert "1 event id(s) redelivered with a different payload" in out
    assert "staging.stg_api_requests" in out and "16 rows" in out

    # The canary IP is nowhere in what the pipeline wrote: warehouse, snapshot, alert file, logs.
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "landing" not in p.parts]
    assert any(p.name == "warehouse.duckdb" for p in written)
    for path in written:
        assert CANARY_IP.encode() not in path.read_bytes(), path
