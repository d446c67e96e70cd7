"""The sample-data generator: deterministic bytes, contract-format events, deliberate dirt."""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.sample_data import (
    DEFAULT_DAYS,
    DEFAULT_END_DATE,
    DEFAULT_ORGS,
    DEFAULT_SEED,
    GenerationSummary,
    format_summary,
    generate,
    register,
)

SMALL = {"orgs": 8, "days": 30, "seed": 3, "end_date": date(2026, 10, 31)}
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
KNOWN = ("api_request", "quota_set", "key_issued", "key_revoked")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _contents(root: Path) -> dict[str, object]:
    """Text files by bytes; Parquet by its rows, which do not depend on the writer's version."""
    contents: dict[str, object] = {}
    for name, data in _files(root).items():
        if name.endswith(".parquet"):
            contents[name] = duckdb.execute(
                "select * from read_parquet(?) order by event_id", [str(root / name)]
            ).fetchall()
        else:
            contents[name] = data
    return contents


def _lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8").split("\n")[:-1]


def _utc(text: str) -> datetime:
    """RFC 3339 text to naive UTC (no offset means UTC, as the contract says)."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        return at
    return (at - at.utcoffset()).replace(tzinfo=None)


def _contract_problem(line: str) -> str | None:
    """Why a line breaks docs/contract.md section 1, or None when it is a valid event."""
    try:
        event = json.loads(line)
    except ValueError:
        return "invalid json"
    if not isinstance(event, dict):
        return "not an object"
    for name in ("event_id", "event_type", "event_time"):
        if not isinstance(event.get(name), str):
            return f"missing {name}"
    try:
        _utc(event["event_time"])
    except ValueError:
        return "bad event_time"
    consumer = event.get("consumer") or {}
    if not isinstance(consumer.get("organization_id"), str):
        return "missing organization_id"
    kind = event["event_type"]
    if kind in ("key_issued", "key_revoked") and not isinstance(consumer.get("api_key_id"), str):
        return "missing api_key_id"
    if kind == "quota_set" and not isinstance((event.get("quota") or {}).get("monthly_call_limit"), int):
        return "missing monthly_call_limit"
    if kind == "api_request":
        api = event.get("api") or {}
        if not isinstance(api.get("method"), str):
            return "missing method"
        if not (api.get("endpoint") or api.get("route")):
            return "missing endpoint"
        status = (event.get("result") or {}).get("status_code")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            return "bad status_code"
        duration = (event.get("timings") or {}).get("request_duration_ms")
        if not isinstance(duration, int | float) or duration < 0:
            return "bad duration"
    return None


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(out, **SMALL)


@pytest.fixture(scope="module")
def small_events(small) -> dict:
    """Every line of the small run, split into valid events, malformed lines and blank lines."""
    out, summary = small
    valid: list[tuple[str, dict]] = []
    malformed: Counter[str] = Counter()
    blank: Counter[str] = Counter()
    for f in summary.files:
        if f.file_format == "parquet":
            continue
        for line in _lines(out / f.path):
            if line == "":
                blank[f.path] += 1
            elif _contract_problem(line) is not None:
                malformed[f.path] += 1
            else:
                valid.append((f.path, json.loads(line)))
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    parquet = [f for f in summary.files if f.file_format == "parquet"][0]
    rows = con.execute(
        "select event_id, event_type, event_time, to_json(consumer), to_json(result), "
        "to_json(timings), to_json(api), to_json(quota), idempotency_key from read_parquet(?)",
        [str(out / parquet.path)],
    ).fetchall()
    con.close()
    return {"valid": valid, "malformed": malformed, "blank": blank, "parquet_rows": rows}


def test_same_arguments_give_identical_bytes_and_another_seed_differs(tmp_path, small):
    out, _ = small
    again = tmp_path / "again"
    generate(again, **SMALL)
    first, second = _files(out), _files(again)
    assert sorted(first) == sorted(second)
    assert all(first[name] == second[name] for name in first)

    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": 4})
    third = _files(other)
    assert set(third) == set(first)  # same layout: the file plan depends on dates only
    assert sum(third[name] != first[name] for name in first) == len(first)


def test_gzip_headers_carry_no_time_or_name(small):
    out, summary = small
    for f in summary.files:
        if f.file_format == "ndjson.gz":
            header = (out / f.path).read_bytes()[:10]
            assert header[:3] == b"\x1f\x8b\x08"
            assert header[3] == 0  # no FNAME flag
            assert header[4:8] == b"\x00\x00\x00\x00"  # mtime 0


def test_every_format_written_with_exactly_one_parquet(small):
    out, summary = small
    assert summary.files_by_format == {"jsonl": 1, "ndjson": 1, "ndjson.gz": 25, "parquet": 1}
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted(f.path for f in summary.files)
    assert "2026/10/events-2026-10-09_2026-10-11.parquet" in names
    assert "2026/10/events-2026-10-05.ndjson" in names
    assert "2026/10/events-2026-10-06.jsonl" in names
    assert "2026/10/events-2026-10-31.ndjson.gz" in names
    assert all(f.size_bytes == (out / f.path).stat().st_size for f in summary.files)


def test_malformed_and_blank_lines_are_where_the_summary_says(small, small_events):
    _, summary = small
    assert summary.malformed_lines == 12
    assert summary.blank_lines == 2
    assert sum(summary.malformed_reasons.values()) == 12
    assert summary.malformed_reasons["not_an_object"] == 2
    assert small_events["malformed"] == Counter(
        {f.path: f.malformed_lines for f in summary.files if f.malformed_lines}
    )
    assert small_events["blank"] == Counter({f.path: f.blank_lines for f in summary.files if f.blank_lines})
    parquet = [f for f in summary.files if f.file_format == "parquet"][0]
    assert (parquet.malformed_lines, parquet.blank_lines) == (0, 0)


def test_every_other_line_is_a_contract_event_and_counts_match(small, small_events):
    _, summary = small
    valid = small_events["valid"]
    rows = small_events["parquet_rows"]
    ids = [e["event_id"] for _, e in valid] + [r[0] for r in rows]
    assert len(ids) == summary.total_records
    assert len(set(ids)) == summary.total_events
    assert len(ids) - len(set(ids)) == summary.redelivered_duplicates > 0

    types: dict[str, str] = {e["event_id"]: e["event_type"] for _, e in valid}
    types.update({r[0]: r[1] for r in rows})
    assert dict(Counter(types.values())) == summary.events_by_type
    assert set(KNOWN) <= set(summary.events_by_type)
    assert {"billing_note", "webhook_delivery"} <= set(summary.events_by_type)

    # Parquet rows carry the same fields as structs; event_time is a timestamp.
    for event_id, _, event_time, consumer, result, timings, api, _, _ in rows:
        assert isinstance(event_time, datetime)
        assert json.loads(consumer)["organization_id"].startswith("org_")
        if types[event_id] == "api_request":
            assert 100 <= json.loads(result)["status_code"] <= 599
            assert json.loads(timings)["request_duration_ms"] >= 0
            assert json.loads(api)["method"]


def test_redeliveries_are_identical_lines_and_retries_reuse_idempotency_keys(small, small_events):
    _, summary = small
    by_id: dict[str, list[tuple[str, dict]]] = {}
    for path, event in small_events["valid"]:
        by_id.setdefault(event["event_id"], []).append((path, event))
    copies = [v for v in by_id.values() if len(v) > 1]
    assert copies
    assert all(all(e == v[0][1] for _, e in v) for v in copies)

    firsts = [v[0][1] for v in by_id.values()]
    idem = Counter(e["idempotency_key"] for e in firsts if "idempotency_key" in e)
    idem.update(r[8] for r in small_events["parquet_rows"] if r[8] is not None)
    assert sum(n - 1 for n in idem.values()) == summary.client_retries > 0
    retried = {k for k, n in idem.items() if n > 1}
    chains = [e for e in firsts if e.get("idempotency_key") in retried]
    assert all(e["api"]["method"].upper() != "GET" for e in chains)
    assert len({e["event_id"] for e in chains}) == len(chains)


def test_times_are_in_the_window_with_offsets_and_the_last_day_has_calls(small, small_events):
    _, summary = small
    requests = [e for _, e in small_events["valid"] if e["event_type"] == "api_request"]
    days = {_utc(e["event_time"]).date() for e in requests}
    assert max(days) == summary.end_date == date(2026, 10, 31)
    assert min(days) >= summary.start_date == date(2026, 10, 2)
    suffixes = Counter(
        "Z" if t.endswith("Z") else t[-6:] if t[-6] in "+-" else "none"
        for t in (e["event_time"] for e in requests)
    )
    assert {"Z", "none"} <= set(suffixes)
    assert any(s in suffixes for s in ("+02:00", "+01:00", "-05:00"))
    assert all(_utc(e["received_at"]) >= _utc(e["event_time"]) for e in requests if "received_at" in e)


def test_small_run_has_realistic_volume(small):
    _, summary = small
    assert summary.total_events > 1000


def test_cli_command_defaults_and_output(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="apiwh")
    register(parser.add_subparsers(dest="command", required=True))
    defaults = parser.parse_args(["generate", "--out", str(tmp_path)])
    assert (
        (defaults.orgs, defaults.days, defaults.seed, defaults.end_date)
        == (
            DEFAULT_ORGS,
            DEFAULT_DAYS,
            DEFAULT_SEED,
            DEFAULT_END_DATE,
        )
        == (40, 120, 7, date(2026, 10, 31))
    )

    args = parser.parse_args(
        [
            "generate",
            "--orgs",
            "3",
            "--days",
            "14",
            "--seed",
            "1",
            "--end-date",
            "2026-03-15",
            "--out",
            str(tmp_path),
        ]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert f"to {tmp_path}" in printed
    assert "3 organizations, 14 days 2026-03-02 .. 2026-03-15, seed 1" in printed
    assert "malformed lines 12" in printed
    assert (tmp_path / "2026/03/events-2026-03-15.ndjson.gz").is_file()


def test_generate_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path, capsys):
    """`apiwh generate --out seeds` once rewrote the committed sample and exited 0."""
    from orchestration.cli import main

    (tmp_path / "notes.txt").write_text("mine\n")
    base = ["generate", "--orgs", "1", "--days", "14", "--out", str(tmp_path)]
    assert main(base) == 2
    assert "is not empty; --force writes the sample into it" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert main([*base, "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine\n" and len(list(tmp_path.rglob("*.gz"))) >= 9
    assert "at least 14" in build_help()


def build_help() -> str:
    from orchestration.cli import build_parser

    parser = build_parser()
    return parser._subparsers._group_actions[0].choices["generate"].format_help()


def test_rejects_too_short_windows(tmp_path):
    with pytest.raises(ValueError, match="days must be at least 14"):
        generate(tmp_path, orgs=5, days=13, seed=1, end_date=date(2026, 10, 31))


def test_committed_seeds_are_what_the_generator_writes(tmp_path):
    """seeds/ is regenerated exactly by the command in seeds/README.md."""
    summary = generate(tmp_path, orgs=40, days=120, seed=7, end_date=date(2026, 10, 31))
    # README.md, the sample plan catalogue, the example routes file and the names and contacts are
    # written by hand; the loader skips them.
    hand_written = ("README.md", "plans.csv", "alert_routes.yaml", "organizations.csv")
    committed = {k: v for k, v in _contents(SEEDS_DIR).items() if k not in hand_written}
    assert committed == _contents(tmp_path)
    assert 100_000 < summary.total_events < 400_000
    assert summary.total_bytes < 10_000_000
    assert (
        "apiwh generate --orgs 40 --days 120 --out seeds/ --seed 7" in (SEEDS_DIR / "README.md").read_text()
    )
    assert format_summary(summary).startswith("wrote 118 files")
