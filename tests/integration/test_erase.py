"""`apiwh erase` on a generated set (docs/governance.md): every row about an organization or a
developer leaves, the marts equal a build from the same files without their events, no file the
warehouse writes still holds the id, later files drop their events as `erased` rejects, and a
SIGKILL at any moment leaves the old warehouse or the erased one, never a mix."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.privacy.scan import files_under, scan
from tests.incremental_support import differences, generate_sample, marts_rows
from tests.support import APIWH, apiwh, apiwh_run, load_events, query, run_dbt, warehouse_env, write_ndjson

AS_OF = "2026-11-10"
ORGANIZATION = "org_cd8e5f"  # the second largest of the generated set's four


def _names_file(path: Path, organizations: list[str]) -> Path:
    lines = ["organization_id,display_name,primary_contact_email"]
    lines += [f"{org},Company {org[-4:].upper()} GmbH,owner-{org[-6:]}@example.com" for org in organizations]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return generate_sample(tmp_path_factory.mktemp("erase-data") / "raw", orgs=4, days=20)


@pytest.fixture(scope="module")
def built(tmp_path_factory, generated: Path):
    """The generated set through `apiwh run` (alerts delivered to alerts.jsonl), with names and
    contacts in an organizations file outside the warehouse."""
    root = tmp_path_factory.mktemp("erase-built")
    shutil.copytree(generated, root / "landing")
    organizations = ["org_5eb561", ORGANIZATION, "org_f90ee1", "org_178021"]
    names = _names_file(root / "organizations.csv", organizations)
    return apiwh_run(root, AS_OF=AS_OF, ORGANIZATIONS_FILE=str(names))


def _copy(built, destination: Path):
    shutil.copytree(built.root, destination)
    env = warehouse_env(destination, AS_OF=AS_OF, ORGANIZATIONS_FILE=str(destination / "organizations.csv"))
    return destination, env


def _names(subject_id: str) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![A-Za-z0-9_.\-])" + re.escape(subject_id.encode()) + rb"(?![A-Za-z0-9_.\-])")


def _files_naming(root: Path, subject_id: str) -> list[str]:
    """An independent byte scan: every file under root whose bytes hold the id as a word."""
    pattern = _names(subject_id)
    return [str(p.relative_to(root)) for p in files_under([root]) if pattern.search(p.read_bytes())]


def _without(source: Path, target: Path, kind: str, subject_id: str) -> Path:
    """The raw files with every line about the subject left out: its events, and any bad line
    that names it (the reference an erased warehouse must equal)."""
    pattern = _names(subject_id)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                con.execute(
                    f"copy (select * from read_parquet(?) where consumer.{kind}_id is distinct from ?)"
                    f" to '{out}' (format parquet)",
                    [str(path), subject_id],
                )
            continue
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        kept = [line for line in raw.splitlines(keepends=True) if not pattern.search(line)]
        content = b"".join(kept)
        out.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return target


def _reference(tmp_path: Path, generated: Path, kind: str, subject_id: str) -> Path:
    landing = _without(generated, tmp_path / "reference" / "landing", kind, subject_id)
    warehouse = tmp_path / "reference" / "warehouse.duckdb"
    load_events(landing, warehouse)
    run_dbt(warehouse, "run", as_of=AS_OF)
    return warehouse


def _events_of(path: Path) -> list[dict]:
    """The well-formed events of a gzip NDJSON file (its planted bad lines left out)."""
    events = []
    for line in gzip.decompress(path.read_bytes()).splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("consumer"), dict) and "event_id" in event:
            events.append(event)
    return events


def _a_developer(warehouse: Path) -> str:
    """The busiest developer of the largest organization (not the organization erased)."""
    return query(
        warehouse,
        "select developer_id from raw.events where organization_id = 'org_5eb561'"
        " and developer_id is not null group by 1 order by count(*) desc, 1 limit 1",
    )[0][0]


def _check_seen_before(root: Path, env: dict, kind: str, subject_id: str) -> None:
    """The scans can see the id before: in the warehouse, the snapshot and (an organization's)
    the pages and alerts; the dry run lists what would go and changes nothing."""
    before = scan(files_under([root / "data"]), subject_id)
    assert any(path.endswith("data/warehouse.duckdb") for path in before), before
    assert any(path.endswith("published/warehouse.duckdb") for path in before), before
    if kind == "organization":
        assert any("/dashboard/" in path for path in before), before
        assert any(path.endswith("alerts.jsonl") for path in before), "the subject has no alert"
    flag = "--org" if kind == "organization" else "--developer"
    plan = apiwh(env, "erase", flag, subject_id, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "raw.events" in plan.stdout and "Nothing was changed" in plan.stdout
    warehouse = root / "data" / "warehouse.duckdb"
    assert query(warehouse, f"select count(*) from raw.events where {kind}_id = ?", [subject_id])[0][0] > 0


def _check_erased(root: Path, env: dict, generated: Path, tmp_path: Path, kind: str, subject_id: str) -> None:
    """What an erase leaves, however it ended: a certificate, the id in no file, marts equal to a
    build from the same files without the subject's lines, and later events dropped at load."""
    warehouse = root / "data" / "warehouse.duckdb"
    [certificate_path] = (root / "data" / "erasures").glob("*.json")
    certificate = json.loads(certificate_path.read_text())
    assert certificate["scan"]["clean"] and certificate["scan"]["files_scanned"] > 10
    assert certificate["subject_kind"] == kind and subject_id not in certificate_path.read_text()
    assert certificate["rows_removed"]["raw.events"] > 0
    changed = {Path(f["path"]).name for f in certificate["files"] if f["sha256_before"] != f["sha256_after"]}
    assert {"warehouse.duckdb", "dashboard"} <= changed
    assert "Erasures: 1" in apiwh(env, "status").stdout

    # Nothing under the folder holds the id, by an independent byte scan, nor by a query.
    assert _files_naming(root / "data", subject_id) == []
    assert query(warehouse, f"select count(*) from staging.stg_events where {kind}_id = ?", [subject_id]) == [
        (0,)
    ]

    # The marts equal a build from the same files without the subject's lines.
    problems = differences(
        marts_rows(warehouse), marts_rows(_reference(tmp_path, generated, kind, subject_id))
    )
    assert not problems, "\n".join(problems)

    # A later file with the subject's events: dropped at load as `erased` rejects, no snippet.
    later = _events_of(next(generated.rglob("events-2026-11-09.ndjson.gz")))
    theirs = [e for e in later if e["consumer"].get(f"{kind}_id") == subject_id]
    assert theirs
    write_ndjson(
        root / "landing" / "late.ndjson", [{**e, "event_id": "late-" + e["event_id"]} for e in later]
    )
    run = apiwh(env, "run", "--no-deliver")
    assert run.returncode == 0, run.stdout + run.stderr
    assert query(
        warehouse, "select count(*), count(snippet) from raw.event_rejects where reason = 'erased'"
    ) == [(len(theirs), 0)]
    assert query(warehouse, f"select count(*) from raw.events where {kind}_id = ?", [subject_id]) == [(0,)]
    assert _files_naming(root / "data", subject_id) == []


def test_erasing_a_developer_leaves_marts_equal_to_a_build_without_them_and_the_id_nowhere(
    built, generated: Path, tmp_path: Path
) -> None:
    """Slow (about two minutes) because it must be: a real erase with its full rebuild, a
    reference warehouse built from the rewritten files, and a run with a later file."""
    root, env = _copy(built, tmp_path / "erased")
    developer = _a_developer(root / "data" / "warehouse.duckdb")
    _check_seen_before(root, env, "developer", developer)

    erased = apiwh(env, "erase", "--developer", developer)
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "the id is found nowhere" in erased.stdout
    _check_erased(root, env, generated, tmp_path, "developer", developer)


def test_no_display_name_or_email_reaches_a_duckdb_file(built) -> None:
    """Names and contacts stay in ORGANIZATIONS_FILE: the pages show them, the databases never."""
    names = (built.root / "organizations.csv").read_text().splitlines()[1:]
    values = [value for line in names for value in line.split(",")[1:]]
    databases = [p for p in files_under([built.root / "data"]) if p.name.endswith(".duckdb")]
    assert len(databases) >= 2
    pages = "".join(p.read_text() for p in (built.root / "data" / "dashboard").rglob("*.html"))
    assert values[0] in pages  # the pages do show them: the check below is not blind
    for value in values:
        assert scan(databases, value) == {}, value


def test_bad_subjects_are_one_line_errors(built) -> None:
    # More bad input, for every command: tests/integration/test_cli.py BAD_INPUT.
    for args in (["--org", "a\x07b"], ["--org", "x", "--developer", "y"]):
        result = apiwh(built.env, "erase", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    unknown = apiwh(built.env, "erase", "--org", "org_nobody", "--dry-run")
    assert unknown.returncode == 0 and "no rows in the warehouse" in unknown.stdout


def _state(root: Path) -> str:
    """'old' when the organization is everywhere it was, 'erased' when it is nowhere and a
    certificate says so; anything else is a mix."""
    warehouse = root / "data" / "warehouse.duckdb"
    snapshot = root / "data" / "published" / "warehouse.duckdb"
    in_raw = query(warehouse, "select count(*) from raw.events where organization_id = ?", [ORGANIZATION])[0][
        0
    ]
    usage = "select count(*) from marts.customer_daily_usage where organization_id = ?"
    in_marts = query(warehouse, usage, [ORGANIZATION])[0][0]
    in_snapshot = query(snapshot, usage, [ORGANIZATION])[0][0]
    listed = query(warehouse, "select count(*) from raw.erased_subjects")[0][0]
    pages = (root / "data" / "dashboard" / "customer" / f"{ORGANIZATION}.html").exists()
    certificates = list((root / "data" / "erasures").glob("*.json"))
    if in_raw and in_marts and in_snapshot and pages and not listed and not certificates:
        return "old"
    if not (in_raw or in_marts or in_snapshot or pages) and listed and certificates:
        return "erased"
    return (
        f"mix: raw {in_raw}, marts {in_marts}, snapshot {in_snapshot}, page {pages}, listed {listed},"
        f" certificates {len(certificates)}"
    )


# When each kill lands: the file that shows the erase got there, and how long after it.
MOMENTS = {
    "copying": ("work/warehouse.duckdb", 0.0),
    "rebuilding": ("work/warehouse.duckdb", 4.0),  # dbt's full refresh takes longer than this
    "committed": ("commit.json", 0.0),  # the moves follow at once
}


def _erase_killed_when(env: dict, stage: Path, moment: str) -> int:
    """Start `apiwh erase`, SIGKILL it at `moment`; returns its exit code."""
    mark, delay = MOMENTS[moment]
    process = subprocess.Popen(
        [APIWH, "erase", "--org", ORGANIZATION], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 300
    while process.poll() is None and time.time() < deadline and not (stage / mark).exists():
        time.sleep(0.005)
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    return process.wait(timeout=60)


def test_an_organization_erased_through_sigkills_ends_old_or_erased_never_a_mix(
    built, generated: Path, tmp_path: Path
) -> None:
    """Slow (about three minutes) because it must be: real erases killed at three moments, the
    third after its commit point (the next command finishes it), then the erased warehouse is
    checked as a whole erase is: reference build, byte scan, a run with a later file."""
    root, env = _copy(built, tmp_path / "killed")
    stage = root / "data" / ".erase"
    _check_seen_before(root, env, "organization", ORGANIZATION)
    for moment in ("copying", "rebuilding"):
        returncode = _erase_killed_when(env, stage, moment)
        assert returncode == -signal.SIGKILL, f"the erase ended before the kill at {moment}"
        status = apiwh(env, "status")  # the next command drops the uncommitted erase
        assert status.returncode == 0, status.stderr
        assert not stage.exists() and _state(root) == "old", moment
    assert _erase_killed_when(env, stage, "committed") in (-signal.SIGKILL, 0)
    status = apiwh(env, "status")  # ... and finishes a committed one
    assert status.returncode == 0, status.stderr
    assert not stage.exists() and _state(root) == "erased"
    # Readers read the erased snapshot as the newest: nothing says it is older than the live file.
    top = apiwh(env, "top")
    assert top.returncode == 0 and "org_5eb561" in top.stdout and ORGANIZATION not in top.stdout + top.stderr
    _check_erased(root, env, generated, tmp_path, "organization", ORGANIZATION)
