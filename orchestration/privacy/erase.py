"""Erasing one organization or developer: every row about them leaves, and a certificate says so.

The erase holds the warehouse's writer lock from start to swap, so no run writes meanwhile, and
builds the erased warehouse beside the live one, in <warehouse dir>/.erase/:
1. work/: a copy of the warehouse; the subject's raw events, rejects and alerts are deleted, its
   hashed id joins the erasure list, and dbt rebuilds every model from raw (`--full-refresh`):
   the marts are what a build from files without the subject gives;
2. new/: the work copy rewritten into a fresh file (DuckDB keeps deleted rows in free blocks
   until then), its snapshot, dashboard and Parquet landing, and every other text file the
   warehouse wrote (alerts.jsonl, digests, logs) without the lines that name the subject;
3. commit.json, written last and atomically: the list of moves. It is the commit point.
Then each new file is renamed over the live one. A crash before commit.json leaves the old
warehouse (the next erase or run drops .erase/); after it, the next `apiwh` command or run
finishes the moves (finish_interrupted). The certificate is written once the moves are done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from orchestration import build_state
from orchestration.dashboard.organizations import load_directory
from orchestration.dashboard.site import build_site
from orchestration.dbt_cli import DBT_EXECUTABLE, dbt_vars, keep_parse_state, new_run_target, parse_state_path
from orchestration.errors import UserError
from orchestration.loading.erasure_list import id_hash_sql
from orchestration.loading.landing import land_raw_tables
from orchestration.loading.schema import ensure_raw_schema
from orchestration.privacy import ERASE_STAGE_DIR, certificate
from orchestration.privacy.scan import byte_matches, files_under
from orchestration.privacy.subjects import (
    DIRECT_DELETES,
    Subject,
    direct_delete_condition,
    subject_params,
    word_pattern,
)
from orchestration.settings import DBT_PROJECT_DIR, Settings, environment_with, load_alert_settings
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect, table_exists

COMMIT_FILE = "commit.json"
# Held (flock) by an erase from start to certificate; the kernel frees it when the process dies,
# which is how the next command tells an interrupted erase from one still running.
LOCK_FILE = ".erase.lock"
Progress = Callable[[str], None]
# A live path and what replaces it (None: removed).
Move = tuple[Path, Path | None]


@contextlib.contextmanager
def _erase_lock(settings: Settings) -> Iterator[bool]:
    """Yields whether this process holds the erase lock (never waits for it)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stage_dir(settings: Settings) -> Path:
    return settings.data_dir / ERASE_STAGE_DIR


def rows_about(con: duckdb.DuckDBPyConnection, subject: Subject) -> dict[str, int]:
    """The rows about the subject, per table: the tables erase edits, and every table with the
    subject's id column (the models dbt rebuilds without them)."""
    tables = [
        f"{schema}.{table}"
        for schema, table in con.execute(
            """
            select c.schema_name, c.table_name
            from duckdb_columns() c join duckdb_tables() t using (database_name, schema_name, table_name)
            where c.database_name = current_database() and c.column_name = ?
            order by all
            """,
            [subject.column],
        ).fetchall()
    ]
    counts: dict[str, int] = {}
    for table in tables:
        (counts[table],) = con.execute(
            f"select count(*) from {table} where {subject.column} = $subject_id",
            {"subject_id": subject.subject_id},
        ).fetchall()[0]
    existing = {
        f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    }
    for table in DIRECT_DELETES:
        if table in existing:
            condition = direct_delete_condition(table, subject)
            (counts[table],) = con.execute(
                f"select count(*) from {table} where {condition}", subject_params(subject, condition)
            ).fetchall()[0]
    return {table: n for table, n in sorted(counts.items()) if n}


def _delete_direct_rows(
    con: duckdb.DuckDBPyConnection, subject: Subject, salt: str, now: dt.datetime
) -> None:
    ensure_raw_schema(con)
    con.execute("begin transaction")
    for table in DIRECT_DELETES:
        if table_exists(con, *table.split(".")):  # no ledger before the first alerts step
            condition = direct_delete_condition(table, subject)
            con.execute(f"delete from {table} where {condition}", subject_params(subject, condition))
    con.execute(
        f"insert into raw.erased_subjects select $kind, {id_hash_sql(subject.kind, '$subject_id')}, $now"
        " on conflict do nothing",
        {"kind": subject.kind, "salt": salt, "subject_id": subject.subject_id, "now": now},
    )
    con.execute("commit")


def _rebuild_models(settings: Settings, work: Path) -> None:
    """`dbt build --full-refresh` on the work copy, in a child that dies with this process."""
    values = json.loads(dbt_vars(settings))
    values["warehouse_path"] = str(work)
    vars_json = json.dumps(values, sort_keys=True)
    state = parse_state_path(vars_json, settings.dbt_target)
    target = new_run_target("erase", state)
    command = [str(DBT_EXECUTABLE), "build", "--full-refresh", "--exclude-resource-type", "unit_test"]
    command += ["--vars", vars_json, "--target", settings.dbt_target, "--threads", "1"]
    command += ["--target-path", str(target), "--log-path", str(target), "--quiet"]
    # The copy in the environment too, so nothing in dbt can fall back to the live file.
    env = environment_with(WAREHOUSE_PATH=str(work))
    built = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    if built.returncode != 0:
        detail = (built.stdout.strip().splitlines() or built.stderr.strip().splitlines() or ["dbt failed"])[
            -1
        ]
        raise UserError(f"the rebuild without the subject failed, nothing was erased: {detail}")
    keep_parse_state(target, state)


def _redacted_text_files(settings: Settings, subject: Subject, new: Path) -> list[Move]:
    """Every other file the warehouse wrote that names the subject (alerts.jsonl, digests, run
    logs, reports): a copy without the lines that name it, or None to remove a file that is not
    text (it cannot be edited line by line)."""
    naming = re.compile(word_pattern(subject.subject_id))
    rewritten = [settings.warehouse_path, settings.snapshot_path, settings.dashboard_dir, stage_dir(settings)]
    if settings.landing_dir is not None:
        rewritten.append(settings.landing_dir)
    rewritten = [p.resolve() for p in rewritten]
    moves: list[Move] = []
    for path in files_under(scan_roots(settings)):
        if any(path == r or r in path.parents for r in rewritten):
            continue
        if path.name.endswith(".duckdb") or not byte_matches(path, subject.subject_id):
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            moves.append((path, None))
            continue
        kept = [line for line in lines if not naming.search(line)]
        staged = new / "files" / f"{len(moves):05d}-{path.name}"
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_text("".join(kept), encoding="utf-8")
        moves.append((path, staged))
    return moves


def erase(settings: Settings, subject: Subject, progress: Progress) -> dict:
    """Erase the subject; returns the certificate."""
    if settings.warehouse_engine == "spark":
        raise UserError("erase works on the DuckDB warehouse (WAREHOUSE_ENGINE=duckdb)")
    live = settings.warehouse_path
    if not live.exists():
        raise UserError(f"no warehouse at {live}: nothing to erase")
    with _erase_lock(settings) as held:
        if not held:
            raise UserError("another `apiwh erase` is running on this warehouse; wait for it to finish")
        _finish_interrupted_holding_the_lock(settings, progress)
        stage = stage_dir(settings)
        shutil.rmtree(stage, ignore_errors=True)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        try:
            with connect(live) as con:  # the writer's lock, held until the moves are done
                removed = rows_about(con, subject)
                progress(f"copying {live.name}")
                con.execute("checkpoint")
                work = _copy_database(con, stage / "work" / live.name)
                with connect(work) as w:
                    _delete_direct_rows(w, subject, settings.ip_hash_salt, now)
                    (id_hash,) = w.execute(
                        f"select {id_hash_sql(subject.kind, '$subject_id')}",
                        {"salt": settings.ip_hash_salt, "subject_id": subject.subject_id},
                    ).fetchall()[0]
                progress("rebuilding every model without the subject (dbt build --full-refresh)")
                _rebuild_models(settings, work)
                progress("writing the erased warehouse, its snapshot, dashboard and landing")
                moves = _stage_outputs(settings, work, stage / "new", now)
                moves += _redacted_text_files(settings, subject, stage / "new")
                journal = certificate.draft(subject, id_hash, now, removed, moves)
                _write_atomically(stage / COMMIT_FILE, json.dumps(journal, indent=2))
                _apply_moves(journal)
        except BaseException:
            # Failed or interrupted before its commit point: nothing was erased, nothing is left.
            if not (stage / COMMIT_FILE).exists():
                shutil.rmtree(stage, ignore_errors=True)
            raise
        return _finish(settings, journal, progress)


def _copy_database(con: duckdb.DuckDBPyConnection, target: Path) -> Path:
    """Every schema, table and view of `con`'s database into a new file (which holds no free
    blocks: nothing deleted before survives in it). The file keeps the source's name, which is
    the catalog name dbt's views refer to."""
    target.parent.mkdir(parents=True, exist_ok=True)
    (catalog,) = con.execute("select current_database()").fetchall()[0]
    con.execute("attach ? as erase_copy", [str(target)])
    try:
        con.execute(f'copy from database "{catalog}" to erase_copy')
    finally:
        con.execute("detach erase_copy")
    return target


def _stage_outputs(settings: Settings, work: Path, new: Path, now: dt.datetime) -> list[Move]:
    """The erased warehouse rewritten whole, and what is made from it, each beside its live
    path: (live, staged) pairs."""
    live = settings.warehouse_path
    with duckdb.connect(str(work)) as w:
        final = _copy_database(w, new / live.name)
    moves: list[Move] = [(live, final)]
    # The identity of the dbt build, which the snapshot records (orchestration/snapshot.py).
    build_id = work.with_name(work.name + ".build-id")
    if build_id.exists():
        staged_id = shutil.copyfile(build_id, final.with_name(final.name + ".build-id"))
        moves.append((live.with_name(live.name + ".build-id"), staged_id))
    snapshot = new / "published" / settings.snapshot_path.name
    with connect(final) as con:
        build_state.record_published(con, now)
        publish_snapshot(con, snapshot)
        if settings.landing_dir is not None and settings.landing_dir.exists():
            land_raw_tables(con, new / "landing")
            moves.append((settings.landing_dir, new / "landing"))
    moves.append((settings.snapshot_path, snapshot))
    if settings.dashboard_dir.exists():
        directory = load_directory(settings.organizations_file)
        with duckdb.connect(str(snapshot), read_only=True) as con:
            build_site(con, new / "dashboard", directory, generated_at=now)
        moves.append((settings.dashboard_dir, new / "dashboard"))
    return moves


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _apply_moves(journal: dict) -> None:
    """Each staged file or folder over its live one; done again after a crash, it skips what
    was moved already (the staged file is gone)."""
    for live_text, staged_text in journal["moves"]:
        live = Path(live_text)
        if staged_text is None:
            if live.is_file():
                live.unlink()
            continue
        staged = Path(staged_text)
        if not staged.exists():
            continue
        if staged.is_dir():
            # A folder cannot be renamed over a non-empty one: the old goes aside first.
            old = staged.with_name(staged.name + ".old")
            if live.exists():
                os.replace(live, old)
            os.replace(staged, live)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staged, live)


def _finish(settings: Settings, journal: dict, progress: Progress) -> dict:
    """After the moves: the copies go (the work copy still holds the subject), the scan and the
    certificate, then commit.json (the only file left that names the subject)."""
    stage = stage_dir(settings)
    for leftover in stage.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.name != COMMIT_FILE:
            leftover.unlink()
    progress("scanning every file the warehouse writes for the id")
    issued = certificate.issue(settings, journal, scan_roots(settings), skip=stage / COMMIT_FILE)
    shutil.rmtree(stage, ignore_errors=True)
    return issued


def scan_roots(settings: Settings) -> list[Path]:
    """Every place the warehouse writes: its folder, the Parquet landing, the alert file."""
    roots = [settings.data_dir, load_alert_settings(settings).jsonl_path]
    if settings.landing_dir is not None:
        roots.append(settings.landing_dir)
    return roots


def finish_interrupted(settings: Settings, progress: Progress | None = None) -> None:
    """An erase stopped by a crash: finished when it had committed, dropped otherwise. Called
    by every `apiwh` command and at the start of a run; an erase still running is left alone."""
    if not stage_dir(settings).exists():
        return
    with _erase_lock(settings) as held:
        if held:
            _finish_interrupted_holding_the_lock(settings, progress or (lambda message: None))


def _finish_interrupted_holding_the_lock(settings: Settings, progress: Progress) -> None:
    stage = stage_dir(settings)
    if not stage.exists():
        return
    commit = stage / COMMIT_FILE
    if not commit.exists():
        shutil.rmtree(stage, ignore_errors=True)
        return
    journal = json.loads(commit.read_text(encoding="utf-8"))
    progress("finishing an erase that was interrupted after its commit point")
    _apply_moves(journal)
    _finish(settings, journal, progress)
