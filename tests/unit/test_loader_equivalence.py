"""The fast path gives exactly what the exact per-line path gives, on a corpus of dirty files.

Every bad-line case the warehouse must survive (BOM, CRLF, blank lines, duplicate keys, wrong
types, invalid UTF-8, over-long lines, non-object lines, control characters, NUL bytes, ...)
plus the shapes the fast path's proof must not be fooled by (escapes, explicit nulls, unknown
fields, colons in values, raw DEL and C1 characters, IPs in free text). Both warehouses must
hold identical raw.events, raw.event_rejects and raw.loaded_files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.loading import MAX_LINE_BYTES, fast_path
from orchestration.loading.discovery import discover_files
from orchestration.loading.schema import FIELDS
from tests.support import load_events

NOW = dt.datetime(2026, 11, 1, 12, 0, 0)


def _event(n: int, **over) -> dict:
    event = {
        "event_id": f"e{n}",
        "event_type": "api_request",
        "event_time": f"2026-10-{1 + n % 28:02d}T10:{n % 60:02d}:07.25Z",
        "received_at": "2026-10-01T10:00:09Z",
        "consumer": {"organization_id": f"org_{n % 7}", "api_key_id": f"key_{n % 11}", "plan_id": "pro"},
        "api": {"method": "GET", "endpoint": f"/v2/orders/{n}", "version": "2025-11-15"},
        "result": {"status_code": 200 if n % 5 else 503},
        "timings": {"request_duration_ms": 12.5 + n % 97, "upstream_ms": 10},
        "bytes": {"request": 0, "response": 100 + n},
        "network": {"ip": f"203.0.113.{n % 250}", "country": "NL", "region": "eu-west-1"},
        "client": {"sdk_version": "1.2.0", "user_agent": "apiwh-python/1.2.0 (linux)"},
    }
    event.update(over)
    return event


def _line(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def _other(event_id: str, event_type: str, consumer: dict, **fields) -> bytes:
    """An event of another type than api_request, on 2026-10-01."""
    event = {"event_id": event_id, "event_type": event_type, "event_time": "2026-10-01T00:00:00Z"}
    return _line({**event, "consumer": consumer, **fields})


def _corpus_lines() -> list[bytes]:
    clean = [_line(_event(n)) for n in range(40)]
    tricky = [
        # Valid, but beyond what the proof vouches for: the exact path decides.
        _line(_event(100, extra_field={"nested": [1, 2]})),
        _line(_event(101, request_id=None, idempotency_key="idem:1")),
        _line(_event(102, client={"user_agent": 'quote " and \\ backslash', "sdk_version": "é"})),
        b'{"event_id":"e103","event_type":"api_request","event_time":"2026-10-02T10:00:00Z",'
        b'"consumer":{"organization_id":"org_1"},"api":{"method":"get","endpoint":"/caf\\u00e9"},'
        b'"result":{"status_code":201},"timings":{"request_duration_ms":5}}',
        _line(_event(104, client={"user_agent": "curl/8 (x: y) caf\u00e9 \U0001f600"})),
        _line(_event(105, api={"method": "POST", "route": "/v2/orders/{id}"})),
        _line(_event(106, event_time="2026-10-03T12:00:00+02:00")),
        _line(_event(107, event_time="2026-10-03 12:00:00")),
        _line(_event(108, event_time="2026-10-03t12:00:00z")),
        b'{ "event_id" : "e109", "event_type":"api_request" ,"event_time":"2026-10-04T00:00:00Z",'
        b' "consumer" : { "organization_id" : "org_2" }, "api":{"method":"GET","endpoint":"/x"},'
        b'"result":{"status_code":404},"timings":{"request_duration_ms":1.0E2} }',
        b"\t" + _line(_event(110)) + b"  ",
        _line(_event(111, event_type="page_view")),
        _other(
            "q1",
            "quota_set",
            {"organization_id": "org_1"},
            quota={"monthly_call_limit": 5000, "plan_id": "pro"},
        ),
        _other(
            "q2", "quota_set", {"organization_id": "org_2"}, quota={"monthly_call_limit": 0, "reason": "x"}
        ),
        _other("k1", "key_issued", {"organization_id": "org_1", "api_key_id": "key_9"}, key={"label": "a"}),
        _line(_event(112, consumer={"organization_id": "org_3", "developer_id": ""})),
        _line(_event(113, bytes={})),
        _line(_event(114, result={"status_code": 200, "error_type": None})),
        # IP-like values in free text are masked as they are stored, by either path.
        _line(_event(115, client={"user_agent": "edge-proxy 198.51.100.7 for 2001:db8::7:1:2 (x)"})),
        _line(_event(116, client={"user_agent": "Chrome/120.0.0.0 at 10:00:00"})),
        # Broken: rejected with their reasons by either path.
        _line(_event(200, result={"status_code": 200.0})),
        _line(_event(201, result={"status_code": "200"})),
        _line(_event(202, result={"status_code": 12345678901234567890})),
        _line(_event(203, result={"status_code": 700})),
        _line(_event(204, timings={"request_duration_ms": -1})),
        _line(_event(205, timings={"request_duration_ms": 1e30})),
        _line(_event(206, timings={"request_duration_ms": "12"})),
        _line(_event(207, bytes={"response": -5})),
        _line(_event(208, event_time="yesterday")),
        _line(_event(209, event_time="1999-12-31T23:59:59Z")),
        _line(_event(210, event_time="2031-01-01T00:00:00Z")),
        _line(_event(211, event_time=1696150800)),
        _line(_event(212, consumer="org_1")),
        _line(_event(213, client="sdk")),
        _line(_event(214, client={})),
        _line(_event(215, api={"method": {"verb": "GET"}, "endpoint": "/x"})),
        _line(_event(216, api={"method": "GET"})),
        _line(_event(217, event_id="")),
        _line({k: v for k, v in _event(218).items() if k != "event_time"}),
        _line({k: v for k, v in _event(219).items() if k != "result"}),
        _line(
            {
                "event_id": "q3",
                "event_type": "quota_set",
                "event_time": "2026-10-01T00:00:00Z",
                "consumer": {"organization_id": "org_1"},
                "quota": {"monthly_call_limit": -1},
            }
        ),
        _line(
            {
                "event_id": "k2",
                "event_type": "key_revoked",
                "event_time": "2026-10-01T00:00:00Z",
                "consumer": {"organization_id": "org_1"},
            }
        ),
        _line(_event(220)).replace(b'"event_id":"e220"', b'"event_id":"e220","event_id":"e220b"'),
        _line(_event(221)).replace(b'"organization_id"', b'"organization_id":"x","organization_id"'),
        _line(_event(222)).replace(b'"event_id":"e222"', b'"event_id":"e222","event_id":null'),
        _line(_event(223)) + b" 5",
        # Unknown fields or nulls defeat the colon count; the key listing must still see these.
        _line(_event(225, gateway={"node": "edge-1"})).replace(
            b'"event_id":"e225"', b'"event_id":"e225","event_id":"x"'
        ),
        _line(_event(226, schema_version=1)).replace(
            b'"schema_version":1', b'"schema_version":1,"schema_version":2'
        ),
        _line(_event(227, gateway={"node": "a"})).replace(b'"node":"a"', b'"node":"a","node":"b"'),
        _line(_event(228, client=None, request_id=None)),
        _line(_event(229, api_key=None)).replace(b'"api":{', b'"api":{"method":"PUT",'),
        _line(_event(224))[:-20],
        # Control characters in ids and text: JSON escapes (\u0007, \u001b, \t) and raw DEL/C1.
        _line(_event(240, consumer={"organization_id": "org_bell\u0007"})),
        _line(_event(241, event_id="e241\u001b[2J")),
        _line(_event(242, api={"method": "GET", "endpoint": "/v2/next\u0085line"})),
        _line(_event(243, client={"user_agent": "ua\u007f"})),
        _line(_event(244, api={"method": "GET", "route": "/v2/\t{id}"})),
        _line(_event(245, consumer={"organization_id": "o", "developer_id": "\u0000", "plan_id": "p\u009f"})),
        _line(
            _event(246, event_type="key_issued", consumer={"organization_id": "o", "api_key_id": "k\u0085"})
        ),
        _line({**_event(247), "network": {"ip": "203.0.113.9\u0000"}}),
        b"42",
        b"[]",
        b"null",
        b'"just a string"',
        b"{not json}",
        b"",
        b"   ",
    ]
    return clean[:20] + tricky + clean[20:]


def _write(path: Path, lines: list[bytes], *, newline: bytes = b"\n", gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = newline.join(lines) + newline
    path.write_bytes(gzip.compress(data) if gz else data)


def _landing(root: Path) -> Path:
    lines = _corpus_lines()
    _write(root / "lf.ndjson", lines)
    _write(root / "zipped" / "lf.jsonl.gz", lines[::-1], gz=True)
    _write(root / "crlf.ndjson", lines[:30], newline=b"\r\n")
    _write(root / "bom.ndjson", [b"\xef\xbb\xbf" + lines[0], *lines[1:10]])
    _write(root / "bad_utf8.ndjson", [lines[0], b'{"event_id":"\xff\xfe"}', lines[1]])
    _write(root / "control_char.ndjson", [lines[2], b'{"a":1}\x01{"b":2}', lines[3]])
    _write(root / "nul_bytes.ndjson", [lines[4], b"\0\0\0", b'{"event_id":"x\0y"}', lines[5]])
    _write(root / "raw_escape.ndjson", [lines[6], b'{"event_id":"\x1b]0;title\x07"}', b"\x1b[2J"])
    _write(
        root / "long_line.ndjson", [lines[4], b'{"pad":"' + b"x" * (MAX_LINE_BYTES + 10) + b'"}', lines[5]]
    )
    # Within a few bytes of the cap, where byte counting must agree: the exact reader decides.
    near_cap = _line(_event(300, pad=""))
    _write(
        root / "near_cap.ndjson", [lines[6], _line(_event(300, pad="y" * (MAX_LINE_BYTES - len(near_cap))))]
    )
    (root / "no_final_newline.ndjson").write_bytes(lines[7] + b"\n" + lines[8])
    (root / "trailing_blanks.ndjson").write_bytes(lines[9] + b"\n\n\n \n")
    # Big enough for DuckDB to split the file across threads: line numbers must survive that.
    padding = "p" * 1200
    big = [
        _line(_event(1000 + n, client={"user_agent": padding})) if n % 997 else b'{"broken": '
        for n in range(40_000)
    ]
    _write(root / "big.ndjson", big)
    # Parquet written by DuckDB (every column present, nulls included), and a retyped column.
    source = root.parent / "for_parquet.ndjson"
    _write(source, [_line(_event(n)) for n in range(400, 460)] + [_line(_event(461, bytes={"request": 1}))])
    duckdb.sql(f"copy (select * from read_json('{source}')) to '{root / 'rows.parquet'}' (format parquet)")
    duckdb.sql(
        f"copy (select * replace (struct_pack(status_code := case when event_id = 'e401' then 'abc' "
        f"else result.status_code::varchar end) as result) from read_json('{source}')) "
        f"to '{root / 'retyped.parquet'}' (format parquet)"
    )
    return root


def _tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "events": con.execute("select * from raw.events order by source_file, source_line").fetchall(),
            "rejects": con.execute(
                "select * from raw.event_rejects order by source_file, line_number"
            ).fetchall(),
            "files": con.execute("select * from raw.loaded_files order by load_id").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _landing(tmp_path_factory.mktemp("corpus") / "landing")


@pytest.fixture(scope="module")
def loaded(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    root, landing = tmp_path_factory.mktemp("equivalence"), corpus
    reports = {}
    for mode in ("fast", "exact"):
        reports[mode] = load_events(
            landing, root / mode / "warehouse.duckdb", now=NOW, exact_only=mode == "exact"
        )
    return {mode: _tables(root / mode / "warehouse.duckdb") for mode in reports}, reports


@pytest.fixture(scope="module")
def loaded_alone(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    """The corpus's readable files landed and loaded one per run, as a new day's file is: the
    fast path then stores the lines before checking them (fast_path.check_ndjson lines_first)."""
    root = tmp_path_factory.mktemp("alone")
    candidates, _ = discover_files(corpus)
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    lines_first = []
    check_ndjson = fast_path.check_ndjson

    def recording(*args, **options):
        lines_first.append(options.get("lines_first"))
        return check_ndjson(*args, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_path, "check_ndjson", recording)
        for candidate in candidates:
            (landing / candidate.relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(candidate.path, landing / candidate.relative)
            load_events(landing, warehouse, now=NOW)
    return _tables(warehouse), lines_first


# Reasons the corpus's bad lines must be rejected with (some of them).
BAD_LINE_REASONS = (
    "duplicate keys in one object",
    "invalid JSON",
    "result.status_code must be an integer",
    "timings.request_duration_ms must be >= 0",
    f"line longer than {MAX_LINE_BYTES} bytes",
    "one of consumer, api, result, timings, bytes, network, client, quota is not an object",
)
# Lines e240..e247 of the corpus and the NUL byte file: each control character named by its field.
CONTROL_CHARACTER_REASONS = (
    "control character in consumer.organization_id",
    "control character in event_id",
    "control character in api.endpoint",
    "control character in client.user_agent",
    "control character in api.route",
    "control character in consumer.developer_id; control character in consumer.plan_id",
    "control character in consumer.api_key_id",
    "control character in network.ip",
    "invalid JSON (NUL byte)",
)


def _reject_reasons(tables: dict) -> set[str]:
    return {row[4] for row in tables["fast"]["rejects"]}


def test_fast_and_exact_paths_give_identical_tables(loaded) -> None:
    tables, _ = loaded
    for name in ("files", "rejects", "events"):
        fast, exact = tables["fast"][name], tables["exact"][name]
        assert len(fast) == len(exact), name
        mismatches = [(f, e) for f, e in zip(fast, exact, strict=True) if f != e]
        assert not mismatches, f"{name}: first difference {mismatches[0]}"


def test_a_file_loaded_alone_gives_the_same_rows_and_rejects(loaded, loaded_alone) -> None:
    """Load ids differ (a file per run), every other value is the same."""
    tables, _ = loaded
    alone, lines_first = loaded_alone
    assert lines_first and all(lines_first)
    for name in ("rejects", "events"):
        # load_id leads both tables.
        assert sorted(row[1:] for row in alone[name]) == sorted(row[1:] for row in tables["fast"][name]), name


def test_the_corpus_exercises_both_outcomes(loaded) -> None:
    tables, reports = loaded
    by_file = {f.path: f for f in reports["fast"].files}
    # The fast path proved the clean bulk and sent only doubtful lines through the exact rules.
    big = by_file["big.ndjson"]
    assert big.read_path == "fast"
    assert big.lines == 40_000 and big.rejects == 41
    assert big.exact_lines == 41
    lf = by_file["lf.ndjson"]
    assert lf.read_path == "fast" and 0 < lf.exact_lines < lf.lines - 30
    assert by_file["rows.parquet"].exact_lines == 0
    # What DuckDB's reader refuses goes whole through the exact reader.
    for name in (
        "crlf.ndjson",
        "bad_utf8.ndjson",
        "control_char.ndjson",
        "nul_bytes.ndjson",
        "long_line.ndjson",
        "near_cap.ndjson",
    ):
        assert by_file[name].read_path == "exact", name
    reasons = _reject_reasons(tables)
    for expected in BAD_LINE_REASONS:
        assert expected in reasons, expected
    assert any(r.startswith("invalid UTF-8") for r in reasons)
    assert any(r.startswith("not a JSON object") for r in reasons)


def test_control_characters_are_rejected_by_field_and_never_reach_a_snippet(loaded) -> None:
    tables, _ = loaded
    reasons = _reject_reasons(tables)
    for expected in CONTROL_CHARACTER_REASONS:
        assert expected in reasons, expected
    ids = {row[4] for row in tables["fast"]["events"]}  # event_id follows the lineage columns
    assert not {"e240", "e242", "e243", "e244", "e245", "e246", "e247"} & ids
    control = re.compile("[\x00-\x1f\x7f-\x9f]")
    snippets = [row[5] for row in tables["fast"]["rejects"]]
    assert not [s for s in snippets if control.search(s)]
    assert '{"event_id":"\\u001b]0;title\\u0007"}' in snippets  # raw ESC and BEL, escaped


def test_ip_like_values_in_free_text_are_masked_as_stored(loaded) -> None:
    tables, _ = loaded
    agent = 4 + [f.column for f in FIELDS].index("user_agent")  # after the lineage columns
    agents = {row[4]: row[agent] for row in tables["fast"]["events"] if row[4] in ("e115", "e116")}
    assert agents == {"e115": "edge-proxy <ip> for <ip> (x)", "e116": "Chrome/<ip> at 10:00:00"}
