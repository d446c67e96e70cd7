"""What the models were last built from, so a refresh with nothing new does no model work.

The inputs of a build are the newest raw load that brought events, the AS_OF setting and a
fingerprint of the dbt project's files and the plan catalogue (PLANS_FILE). A build is
recorded when dbt succeeds and marked published when the snapshot (the last step of
daily_refresh, after the alerts) is written. A refresh skips dbt only when the newest record is
published and has the same inputs; a crash or failure anywhere in between leaves it
unpublished, so the next refresh builds again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.loading.sealed_days import last_sealed_day
from orchestration.privacy.retention import seals_to_move
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import table_exists

_DDL = """
create schema if not exists meta;
create table if not exists meta.model_builds (
    build_id bigint primary key,
    raw_load_id bigint,             -- newest load in raw.events the build consumed
    as_of date,                     -- the AS_OF setting (null: the last day with calls)
    project_fingerprint varchar not null,
    built_at timestamp not null,
    published_at timestamp
);
-- full (from raw) or incremental (touched days only), and why (docs/design.md).
alter table meta.model_builds add column if not exists build_kind varchar;
alter table meta.model_builds add column if not exists build_reason varchar;
"""
# Folders of the dbt project whose files decide what a build produces.
_PROJECT_INPUTS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")


@dataclass(frozen=True)
class BuildInputs:
    raw_load_id: int | None
    as_of: dt.date | None
    project_fingerprint: str

    def describe(self) -> str:
        as_of = self.as_of.isoformat() if self.as_of else "last day with calls"
        return f"raw load {self.raw_load_id}, as-of {as_of}, project {self.project_fingerprint[:12]}"


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR, plans_file: Path | None = None) -> str:
    """sha256 over the files that define the models, and the plan catalogue they read."""
    digest = hashlib.sha256()
    files = [project_dir / "dbt_project.yml"]
    for folder in _PROJECT_INPUTS:
        files += sorted(p for p in (project_dir / folder).rglob("*") if p.is_file())
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    if plans_file is not None:
        digest.update(b"PLANS_FILE\0" + plans_file.read_bytes())
    return digest.hexdigest()


def current_inputs(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None, plans_file: Path | None = None
) -> BuildInputs:
    con.execute(_DDL)
    return _inputs(con, as_of, plans_file)


def _inputs(con: duckdb.DuckDBPyConnection, as_of: dt.date | None, plans_file: Path | None) -> BuildInputs:
    has_events = table_exists(con, "raw", "events")
    load_id = con.execute("select max(load_id) from raw.events").fetchall()[0][0] if has_events else None
    return BuildInputs(load_id, as_of, project_fingerprint(plans_file=plans_file))


def nothing_new(
    warehouse: Path,
    raw_data_dir: Path,
    as_of: dt.date | None,
    plans_file: Path | None,
    retention: Mapping[str, int | None] | None = None,
) -> bool:
    """A cheap look before a refresh, reading nothing but file names, sizes and times: every
    landed file is one the manifest knows unchanged, and the newest build, published, had the
    inputs the models would have now. Any doubt (no warehouse, a busy one, a file the manifest
    does not know by its size and time) answers False, and the refresh runs in full."""
    from orchestration.loading.discovery import Manifest, discover_files

    if not warehouse.exists() or not raw_data_dir.is_dir():
        return False
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return False
    with con:
        con.execute("set TimeZone = 'UTC'")
        if not (table_exists(con, "meta", "model_builds") and table_exists(con, "raw", "loaded_files")):
            return False
        manifest = Manifest(con)
        candidates, _ = discover_files(raw_data_dir)
        if any(manifest.hash_if_unchanged(candidate) is None for candidate in candidates):
            return False
        return is_up_to_date(con, _inputs(con, as_of, plans_file), read_only=True, retention=retention)


def is_up_to_date(
    con: duckdb.DuckDBPyConnection,
    inputs: BuildInputs,
    *,
    read_only: bool = False,
    retention: Mapping[str, int | None] | None = None,
) -> bool:
    """True when the newest build had these inputs and went all the way to the snapshot, and no
    retention setting (`retention`: days kept per field class) has a day left to seal."""
    if not read_only:
        con.execute(_DDL)
    rows = con.execute(
        """
        select raw_load_id, as_of, project_fingerprint, published_at is not null
        from meta.model_builds order by build_id desc limit 1
        """
    ).fetchall()
    if not rows:
        return False
    load_id, as_of, fingerprint, published = rows[0]
    if not (published and BuildInputs(load_id, as_of, fingerprint) == inputs):
        return False
    return not (retention and seals_to_move(con, retention))


@dataclass(frozen=True)
class BuildKind:
    """Which build a refresh runs: `full` rebuilds every model from raw, `incremental` replaces
    only the days new loads touch (dbt_project/macros/incremental_days.sql)."""

    full: bool
    reason: str

    @property
    def name(self) -> str:
        return "full" if self.full else "incremental"


def last_day_with_calls(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last UTC day with an api_request in raw: the as-of date when AS_OF is unset."""
    return con.execute(
        "select max(cast(event_time as date)) from raw.events where event_type = 'api_request'"
    ).fetchall()[0][0]


def as_of_after_the_data(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date | None:
    """The last day with calls when AS_OF is after it (every account would look silent since),
    else None. Looks at raw only when AS_OF is set."""
    last_day = last_day_with_calls(con) if as_of is not None else None
    return last_day if last_day is not None and as_of > last_day else None


def _effective_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date | None:
    """The as-of date the models will use: AS_OF, else the last UTC day with an api_request."""
    return as_of if as_of is not None else last_day_with_calls(con)


def choose_build_kind(
    con: duckdb.DuckDBPyConnection, inputs: BuildInputs, *, full_refresh_requested: bool
) -> BuildKind:
    """Full when asked, on a first build, after a model or price-list change (old rows were made
    by other code), or when the as-of date moved backwards (rows after it would stay): never a
    silently mixed state. Otherwise incremental."""
    con.execute(_DDL)
    if full_refresh_requested:
        return BuildKind(True, "full refresh requested")
    last = con.execute(
        "select project_fingerprint from meta.model_builds order by build_id desc limit 1"
    ).fetchall()
    if not last:
        return BuildKind(True, "first build")
    if last[0][0] != inputs.project_fingerprint:
        return BuildKind(True, "the models or the plan catalogue changed since the last build")
    if not table_exists(con, "meta", "incremental_state"):
        return BuildKind(True, "no incremental state recorded yet")
    built_as_of = con.execute("select max(as_of_date) from meta.incremental_state").fetchall()[0][0]
    as_of = _effective_as_of(con, inputs.as_of)
    if built_as_of is not None and as_of is not None and as_of < built_as_of:
        return BuildKind(True, f"the as-of date moved back from {built_as_of} to {as_of}")
    return BuildKind(False, "only the days touched by new loads (and a later as-of date) are rebuilt")


def history_loss(con: duckdb.DuckDBPyConnection, kind: BuildKind) -> str | None:
    """Why a full build would lose history, or None: raw holds no call payloads (or IP hashes)
    of the sealed days (orchestration/privacy/retention.py), so rebuilding every model from raw
    would drop them from every mart."""
    sealed = last_sealed_day(con) if kind.full else None
    if sealed is None:
        return None
    return (
        f"a full rebuild ({kind.reason}) was refused: raw no longer holds the calls through"
        f" {sealed.isoformat()} (past retention), so every mart would lose those days; rerun with"
        " `apiwh run --allow-history-loss` to rebuild from what raw holds (docs/governance.md)"
    )


def rebuilt_days(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> dict[str, int]:
    """Days each incremental model replaced in the build that started at `since` (-1: all)."""
    rows = con.execute(
        """
        select model_name, arg_max(rebuilt_days, recorded_at)
        from meta.incremental_state where recorded_at >= ? group by all order by 1
        """,
        [since],
    ).fetchall()
    return dict(rows)


def record_built(
    con: duckdb.DuckDBPyConnection, inputs: BuildInputs, now: dt.datetime, kind: BuildKind | None = None
) -> None:
    con.execute(_DDL)
    con.execute(
        """
        insert into meta.model_builds
            (build_id, raw_load_id, as_of, project_fingerprint, built_at, published_at,
             build_kind, build_reason)
        select coalesce(max(build_id), 0) + 1, ?, ?, ?, ?, null, ?, ? from meta.model_builds
        """,
        [
            inputs.raw_load_id,
            inputs.as_of,
            inputs.project_fingerprint,
            now,
            kind.name if kind else None,
            kind.reason if kind else None,
        ],
    )


def record_published(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> None:
    con.execute(_DDL)
    con.execute(
        """
        update meta.model_builds set published_at = ?
        where build_id = (select max(build_id) from meta.model_builds)
        """,
        [now],
    )
