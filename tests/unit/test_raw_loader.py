"""The raw load on real files: formats, exactly-once, rejects with line numbers, privacy."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb

from orchestration.loading import MAX_LINE_BYTES
from tests.support import api_request, key_issued, load_events, quota_set, warehouse_path, write_ndjson

CANARY_IP = "198.51.100.73"


def _events(prefix: str, n: int, day: str = "2026-10-01") -> list[dict]:
    return [api_request("org_a", f"{day}T10:{i % 60:02d}:00Z", event_id=f"{prefix}{i}") for i in range(n)]


def _rows(con, sql, params=()):
    return con.execute(sql, list(params)).fetchall()


def test_every_format_loads(con, landing: Path) -> None:
    write_ndjson(landing / "a" / "plain.ndjson", _events("p", 3))
    write_ndjson(landing / "b" / "lines.jsonl", _events("j", 2))
    with gzip.open(landing / "b" / "zipped.ndjson.gz", "wt") as handle:
        handle.write("\n".join(__import__("json").dumps(e) for e in _events("g", 4)) + "\n")
    parquet_source = write_ndjson(landing.parent / "for_parquet.ndjson", _events("q", 5))
    duckdb.sql(
        f"copy (select * from read_json('{parquet_source}')) "
        f"to '{landing / 'c' / 'part.parquet'}' (format parquet)"
    ) if (landing / "c").mkdir() is None else None

    report = load_events(landing, con)

    assert report.count("loaded") == 4
    assert report.events == 14 and report.rejects == 0
    by_file = dict(_rows(con, "select source_file, count(*) from raw.events group by 1"))
    assert by_file == {
        "a/plain.ndjson": 3,
        "b/lines.jsonl": 2,
        "b/zipped.ndjson.gz": 4,
        "c/part.parquet": 5,
    }
    formats = dict(_rows(con, "select path, file_format from raw.loaded_files"))
    assert formats["c/part.parquet"] == "parquet"
    assert formats["b/zipped.ndjson.gz"] == "ndjson.gz"
    # Parquet rows take the same typing path: the route, status and time arrive intact.
    assert _rows(
        con,
        "select method, endpoint, status_code, event_time::varchar from raw.events where event_id = 'q3'",
    ) == [("GET", "/v1/items", 200, "2026-10-01 10:03:00")]


def test_rerun_and_renamed_copy_load_nothing(con, landing: Path) -> None:
    write_ndjson(landing / "day1.ndjson", _events("e", 10))
    assert load_events(landing, con).events == 10
    shutil.copy(landing / "day1.ndjson", landing / "renamed-copy.ndjson")

    second = load_events(landing, con)

    assert second.count("loaded") == 0 and second.count("skipped") == 2
    assert _rows(con, "select count(*) from raw.events") == [(10,)]
    assert _rows(con, "select count(*) from raw.loaded_files") == [(1,)]


def test_bad_lines_are_rejected_with_line_numbers_and_the_rest_loads(con, landing: Path) -> None:
    good = _events("ok", 4)
    missing_org = api_request("org_a", "2026-10-01T10:00:00Z", event_id="no_org")
    del missing_org["consumer"]["organization_id"]
    lines = [
        good[0],  # 1
        '{"event_id": "broken", "event_type": ',  # 2: malformed JSON
        good[1],  # 3
        missing_org,  # 4: a required field missing
        "",  # 5: blank, ignored
        api_request("org_a", "2026-10-01T10:00:00Z", status=999, event_id="bad_status"),  # 6
        good[2],  # 7
        api_request("org_a", "2026-10-01T10:00:00Z", event_id="abc_status")
        | {"result": {"status_code": "abc"}},  # 8
        "42",  # 9
        api_request("org_a", "not a time", event_id="bad_time"),  # 10
        api_request("org_a", "2026-10-01T10:00:00Z", duration_ms=1e30, event_id="slow"),  # 11
        good[3],  # 12
        '{"event_id": "trunc", "event_type": "api_req',  # 13: truncated last line
    ]
    write_ndjson(landing / "mixed.ndjson", lines)

    report = load_events(landing, con)

    assert report.events == 4 and report.rejects == 8
    rejects = _rows(con, "select line_number, reason from raw.event_rejects order by line_number")
    assert [n for n, _ in rejects] == [2, 4, 6, 8, 9, 10, 11, 13]
    reasons = dict(rejects)
    assert reasons[2] == "invalid JSON"
    assert reasons[4] == "missing required field consumer.organization_id"
    assert reasons[6] == "result.status_code 999 is outside 100-599"
    assert reasons[8] == "result.status_code must be an integer"
    assert reasons[9] == "not a JSON object (got a number)"  # no DuckDB type names
    assert "event_time must be an RFC 3339 time" in reasons[10]
    assert "implausible timings.request_duration_ms" in reasons[11]
    assert reasons[13] == "invalid JSON"
    assert _rows(con, "select blank_lines, lines from raw.loaded_files") == [(1, 13)]
    assert sorted(r[0] for r in _rows(con, "select event_id from raw.events")) == [
        "ok0",
        "ok1",
        "ok2",
        "ok3",
    ]


def test_non_object_duplicate_keys_and_wrong_nested_types(con, landing: Path) -> None:
    dup = (
        '{"event_id":"d1","event_type":"key_issued","event_time":"2026-10-01T00:00:00Z",'
        '"consumer":{"organization_id":"o1","organization_id":"o2","api_key_id":"k"}}'
    )
    write_ndjson(
        landing / "odd.ndjson",
        [
            "[]",
            "null",
            dup,
            key_issued("o1", "2026-10-01T00:00:00Z", "k1") | {"consumer": "o1"},
            quota_set("o1", "2026-10-01T00:00:00Z", -5),
            key_issued("o1", "2026-10-01T00:00:00Z", ""),
        ],
    )
    load_events(landing, con)
    reasons = [r[0] for r in _rows(con, "select reason from raw.event_rejects order by line_number")]
    assert reasons[0] == "not a JSON object (got an array)"
    assert reasons[1] == "not a JSON object (got null)"
    assert reasons[2] == "duplicate keys in one object"
    assert "is not an object" in reasons[3]
    assert reasons[4] == "quota.monthly_call_limit must be >= 0"
    assert reasons[5] == "missing required field consumer.api_key_id"


def test_unknown_fields_and_event_types_load_and_are_counted(con, landing: Path) -> None:
    odd_type = key_issued("o1", "2026-10-01T00:00:00Z", "k1") | {
        "event_type": "billing_note",
        "brand_new_field": {"x": 1},
    }
    write_ndjson(landing / "extra.ndjson", [odd_type, _events("e", 1)[0] | {"extra": True}])
    report = load_events(landing, con)
    assert report.events == 2 and report.rejects == 0 and report.unknown_type_events == 1
    assert _rows(con, "select unknown_type_events from raw.loaded_files") == [(1,)]


def test_times_are_stored_in_utc(con, landing: Path) -> None:
    write_ndjson(
        landing / "tz.ndjson",
        [
            api_request("o", "2026-10-01T23:30:00-02:00", event_id="minus"),
            api_request("o", "2026-10-02T01:30:00+02:00", event_id="plus"),
            api_request("o", "2026-10-01T12:00:00", event_id="naive"),
            api_request("o", "2026-10-01T12:00:00.250Z", event_id="fraction"),
        ],
    )
    load_events(landing, con)
    times = dict(_rows(con, "select event_id, event_time::varchar from raw.events"))
    assert times == {
        "minus": "2026-10-02 01:30:00",
        "plus": "2026-10-01 23:30:00",
        "naive": "2026-10-01 12:00:00",
        "fraction": "2026-10-01 12:00:00.25",
    }


def test_implausible_dates_are_rejected(con, landing: Path) -> None:
    write_ndjson(
        landing / "dates.ndjson",
        [
            api_request("o", "1999-12-31T00:00:00Z", event_id="old"),
            api_request("o", "2999-01-01T00:00:00Z", event_id="future"),
        ],
    )
    report = load_events(landing, con)
    assert report.events == 0
    assert all(
        r[0].startswith("implausible event_time") for r in _rows(con, "select reason from raw.event_rejects")
    )


def test_client_ip_is_hashed_and_never_left_in_clear(con, landing: Path, tmp_path: Path) -> None:
    event = api_request("o", "2026-10-01T00:00:00Z", event_id="ip1")
    event["network"] = {"ip": CANARY_IP, "country": "NL"}
    bad = {"network": event["network"], **event, "event_id": "ip2"}
    bad["result"] = {"status_code": 1000}
    write_ndjson(landing / "ips.ndjson", [event, bad])
    load_events(landing, con)
    con.execute("checkpoint")

    (ip_hash,) = _rows(con, "select network_ip_hash from raw.events")[0]
    assert ip_hash and len(ip_hash) == 64 and CANARY_IP not in ip_hash
    (snippet,) = _rows(con, "select snippet from raw.event_rejects")[0]
    assert CANARY_IP not in snippet and '"ip": "<ip>"' in snippet
    con.close()
    for path in warehouse_path(tmp_path).parent.rglob("*"):
        if path.is_file():
            assert CANARY_IP.encode() not in path.read_bytes(), path


def test_files_are_sniffed_by_content_and_bad_files_recorded_once(con, landing: Path) -> None:
    payload = "\n".join(__import__("json").dumps(e) for e in _events("z", 3)) + "\n"
    (landing / "gzip_without_suffix.ndjson").write_bytes(gzip.compress(payload.encode()))
    (landing / "plain_named_gz.ndjson.gz").write_text(payload.replace('"z', '"y'))
    truncated = gzip.compress(payload.replace('"z', '"t').encode())
    (landing / "truncated.ndjson.gz").write_bytes(truncated[: len(truncated) // 2])
    (landing / "not_really.parquet").write_text("this is not parquet")
    (landing / "empty.ndjson").write_bytes(b"")

    first = load_events(landing, con)
    statuses = {f.path: (f.status, f.events) for f in first.files}
    assert statuses["gzip_without_suffix.ndjson"] == ("loaded", 3)
    assert statuses["plain_named_gz.ndjson.gz"] == ("loaded", 3)
    assert statuses["truncated.ndjson.gz"][0] == "failed"
    assert statuses["not_really.parquet"][0] == "loaded"  # sniffed as text: one rejected line
    assert statuses["empty.ndjson"] == ("empty", 0)
    errors = dict(_rows(con, "select path, error from raw.loaded_files where status = 'failed'"))
    assert "corrupt or truncated gzip" in errors["truncated.ndjson.gz"]
    # The truncated file is all-or-nothing: none of its decodable lines were kept.
    assert _rows(con, "select count(*) from raw.events where source_file like 'trunc%'") == [(0,)]

    second = load_events(landing, con)
    assert second.count("skipped") == 5 and second.count("failed") == 0


def test_parquet_with_incompatible_schema_is_rejected_as_a_file(con, landing: Path) -> None:
    duckdb.sql(
        f"copy (select 'e1' as id, 'api_request' as event_type) "
        f"to '{landing / 'drifted.parquet'}' (format parquet)"
    )
    report = load_events(landing, con)
    (result,) = report.files
    assert result.status == "failed"
    assert "missing column(s) event_id, event_time, consumer" in result.error


def test_files_in_progress_and_links_outside_are_not_loaded(con, landing: Path, tmp_path: Path) -> None:
    write_ndjson(landing / "upload.ndjson.tmp", _events("t", 2))
    write_ndjson(landing / "upload.ndjson.partial", _events("t", 2))
    write_ndjson(landing / ".hidden.ndjson", _events("h", 2))
    outside = write_ndjson(tmp_path / "elsewhere" / "secret.ndjson", _events("s", 2))
    (landing / "link.ndjson").symlink_to(outside)
    write_ndjson(landing / 'it\'s "quoted".ndjson', _events("q", 1))

    report = load_events(landing, con)

    assert report.events == 1
    assert {f.path: f.status for f in report.files if f.status != "loaded"} == {
        "upload.ndjson.tmp": "in_progress",
        "upload.ndjson.partial": "in_progress",
        ".hidden.ndjson": "in_progress",
        "link.ndjson": "outside",
    }


def test_bom_crlf_invalid_utf8_and_an_absurdly_long_line(con, landing: Path) -> None:
    import json

    good = [json.dumps(e) for e in _events("b", 3)]
    long_line = '{"event_id":"long","pad":"' + "x" * (MAX_LINE_BYTES * 3) + '"}'
    content = (
        b"\xef\xbb\xbf"
        + good[0].encode()
        + b"\r\n"
        + b'{"event_id":"\xff\xfe bad"}\r\n'
        + long_line.encode()
        + b"\r\n"
        + good[1].encode()
        + b"\r\n"
        + good[2].encode()
    )
    (landing / "windows.ndjson").write_bytes(content)

    report = load_events(landing, con)

    assert report.events == 3
    rejects = _rows(con, "select line_number, reason, length(snippet) from raw.event_rejects order by 1")
    assert rejects[0][:2] == (2, "invalid UTF-8 (invalid start byte)")
    assert rejects[1][:2] == (3, f"line longer than {MAX_LINE_BYTES} bytes")
    assert rejects[1][2] <= 300


def test_changed_file_loads_its_new_content(con, landing: Path) -> None:
    path = write_ndjson(landing / "rolling.ndjson", _events("r", 2))
    load_events(landing, con)
    write_ndjson(path, _events("r", 3))  # same name, one more event appended
    report = load_events(landing, con)
    assert report.count("loaded") == 1
    # raw keeps both copies; staging deduplicates by event_id (tests/integration/test_pipeline.py).
    assert _rows(con, "select count(*), count(distinct event_id) from raw.events") == [(5, 3)]


def test_parquet_with_compatible_drift_loads(con, landing: Path) -> None:
    # Narrower integer and float types, a timestamp with zone, a struct field order change and
    # an extra column: all still the contract's fields.
    duckdb.sql(
        f"""
        copy (
            select
                'pq' || i as event_id,
                'api_request' as event_type,
                timestamptz '2026-10-01 10:00:00+02' + to_minutes(i) as event_time,
                {{'plan_id': 'pro', 'organization_id': 'org_p'}} as consumer,
                {{'endpoint': '/v1/items/' || i, 'method': 'get'}} as api,
                {{'status_code': 200::smallint}} as result,
                {{'request_duration_ms': 12.5::float}} as timings,
                'extra' as new_column
            from range(3) t(i)
        ) to '{landing / "drift.parquet"}' (format parquet)
        """
    )
    report = load_events(landing, con)
    assert report.events == 3 and report.rejects == 0
    assert _rows(
        con,
        "select method, status_code, request_duration_ms, event_time::varchar, plan_id "
        "from raw.events where event_id = 'pq1'",
    ) == [("GET", 200, 12.5, "2026-10-01 08:01:00", "pro")]


def test_control_characters_in_ids_and_text_reject_the_line_with_the_field_named(con, landing: Path) -> None:
    bell = api_request("org_bell\u0007", "2026-10-01T10:00:00Z", event_id="bell")
    esc = api_request("org_a", "2026-10-01T10:00:00Z", event_id="esc\u001b[2J")
    both = key_issued("org_a", "2026-10-01T00:00:00Z", "key\u0085", developer="\u001b]0;x\u0007")
    agent = api_request("org_a", "2026-10-01T10:00:00Z", event_id="agent", client={"user_agent": "a\u007fb"})
    write_ndjson(landing / "controls.ndjson", [bell, esc, both, agent, _events("ok", 1)[0]])

    report = load_events(landing, con)

    assert report.events == 1 and report.rejects == 4
    assert _rows(con, "select line_number, reason from raw.event_rejects order by 1") == [
        (1, "control character in consumer.organization_id"),
        (2, "control character in event_id"),
        (3, "control character in consumer.developer_id; control character in consumer.api_key_id"),
        (4, "control character in client.user_agent"),
    ]
    assert _rows(con, "select event_id from raw.events") == [("ok0",)]


def test_ips_in_the_user_agent_are_masked_at_load(con, landing: Path, tmp_path: Path) -> None:
    event = api_request("o", "2026-10-01T00:00:00Z", event_id="ua")
    event["client"] = {"user_agent": f"corp-proxy/2.1 (forwarded-for {CANARY_IP}; 2001:db8::1:0:73)"}
    write_ndjson(landing / "agents.ndjson", [event])
    load_events(landing, con)
    con.execute("checkpoint")

    assert _rows(con, "select user_agent from raw.events") == [("corp-proxy/2.1 (forwarded-for <ip>; <ip>)",)]
    con.close()
    for path in warehouse_path(tmp_path).parent.rglob("*"):
        if path.is_file():
            assert CANARY_IP.encode() not in path.read_bytes(), path
