"""Operator commands on a real landing folder: apiwh load, status and rejects."""

from __future__ import annotations

from orchestration.cli import main as apiwh
from tests.support import api_request, write_ndjson


def test_load_status_and_rejects_tell_an_operator_what_happened(pipeline_env, capsys) -> None:
    landing = pipeline_env["landing"]
    write_ndjson(
        landing / "2026" / "day.ndjson",
        [
            api_request("org_a", "2026-10-01T10:00:00Z"),
            "{not json",
            api_request("org_a", "2026-10-01T10:00:00Z", status=99),
            api_request("org_a", "2026-10-01T11:00:00Z"),
        ],
    )
    (landing / "broken.ndjson.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")

    assert apiwh(["load"]) == 0
    captured = capsys.readouterr()
    assert "1 file(s) loaded, 0 empty, 1 failed, 0 already loaded, 0 ignored; 2 events, 2 rejected lines" in (
        captured.out
    )
    assert "2026/day.ndjson: loaded (2 events, 2 rejected)" in captured.err

    assert apiwh(["status"]) == 0
    status = " ".join(capsys.readouterr().out.split())  # columns aligned with varying spaces
    assert "loaded 1 file(s) 2 events 2 rejected 0 blank lines" in status
    assert "failed 1 file(s) 0 events" in status
    assert "staging.stg_events not built yet" in status

    assert apiwh(["rejects", "--limit", "5"]) == 0
    rejects = capsys.readouterr().out
    assert "2 rejected line(s)" in rejects
    assert "2026/day.ndjson:2: invalid JSON" in rejects
    assert "2026/day.ndjson:3: result.status_code 99 is outside 100-599" in rejects
    assert "broken.ndjson.gz: corrupt or truncated gzip" in rejects

    assert apiwh(["load"]) == 0
    assert "0 file(s) loaded, 0 empty, 0 failed, 2 already loaded" in capsys.readouterr().out
