"""Read-only access for the CLI and analysts: the published snapshot, else the live file.

docs/design.md: readers use a published copy of the marts so a run never blocks them and they
never block a run. Before the first publish (or in tests) the live warehouse is opened read-only.
Every read checks two things first:
- AS_OF, when set, must be the as-of date of what is read: it is honoured by `apiwh run` and
  rejected here rather than silently ignored;
- a live warehouse changed after the snapshot was published (a hand-run `dbt build`, `apiwh
  load`) is reported on stderr with the way out (`apiwh publish`).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb

from orchestration.errors import UnknownIdError, UsageError, UserError
from orchestration.settings import Settings
from orchestration.snapshot import META_TABLE, build_identity
from orchestration.warehouse import WarehouseBusyError, connect


class WarehouseNotBuiltError(UserError, RuntimeError):
    """Nothing to read yet: the pipeline has not run against this WAREHOUSE_PATH."""


def open_marts_connection(settings: Settings, *, live_fallback: bool = True) -> duckdb.DuckDBPyConnection:
    """A read-only connection in which `marts.<table>` resolves, snapshot first.

    `live_fallback=False` (`apiwh sql`, whose queries can run for long) never opens the live
    warehouse: a reader's lock on it would make a run fail (issue 23).
    """
    paths = (settings.snapshot_path, settings.warehouse_path) if live_fallback else (settings.snapshot_path,)
    for path in paths:
        if path.exists():
            try:
                con = connect(path, read_only=True)
            except WarehouseBusyError as exc:
                if path == settings.warehouse_path:
                    raise WarehouseNotBuiltError(f"no published snapshot yet and {exc}") from exc
                if not live_fallback:
                    raise
                continue
            try:
                _check_as_of(con, settings)
                if path == settings.snapshot_path:
                    warn_if_stale(con, settings)
            except BaseException:
                con.close()
                raise
            return con
    if not live_fallback:
        raise WarehouseNotBuiltError("no snapshot yet: run `apiwh run` first")
    raise WarehouseNotBuiltError(
        f"no warehouse at {settings.warehouse_path}: run `apiwh run` (or `make run`) first"
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    try:
        rows = con.execute(sql).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):  # not built, or an older snapshot
        return None
    return rows[0][0] if rows else None


def read_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date the marts in `con` were built for (every window ends on it)."""
    return _scalar(con, f"select as_of_date from {META_TABLE}") or _scalar(
        con, "select as_of_date from intermediate.int_as_of_date"
    )


def read_published_at(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    return _scalar(con, f"select published_at from {META_TABLE}")


def _check_as_of(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    if settings.as_of is None:
        return
    built_for = read_as_of(con)
    if built_for is not None and built_for != settings.as_of:
        raise UsageError(
            f"AS_OF={settings.as_of.isoformat()} is set, but the marts were built for the as-of "
            f"date {built_for.isoformat()}; run `apiwh run` with this AS_OF to rebuild them for "
            "that date, or unset AS_OF"
        )


def live_changed_since(con: duckdb.DuckDBPyConnection, live_path: Path) -> bool:
    """True when dbt built models into the live file after the snapshot in `con` was taken from
    it (a hand-run `dbt build`): the build identities differ. The pipeline's own writes after
    publishing (the alert ledger) are not a new build, and the live file is never opened."""
    recorded = _scalar(con, f"select built_by from {META_TABLE}")
    current = build_identity(live_path)
    return recorded is not None and current is not None and current != recorded


def warn_if_stale(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    if live_changed_since(con, settings.warehouse_path):
        published = read_published_at(con)
        when = f" ({published:%Y-%m-%d %H:%M} UTC)" if published else ""
        print(
            f"apiwh: note: the live warehouse changed after this snapshot was published{when}; "
            "`apiwh publish` shows the latest marts (e.g. after a hand-run dbt build)",
            file=sys.stderr,
        )


# Every organization the marts know: with a call, or with a quota but no call yet.
_KNOWN_ORGANIZATIONS_SQL = """
select organization_id from marts.customer_usage_summary
union
select organization_id from marts.quota_utilization
"""


def require_known_organization(con: duckdb.DuckDBPyConnection, organization_id: str) -> None:
    """Raise UnknownIdError (with the closest ids) unless the marts know this organization."""
    try:
        known = [org for (org,) in con.execute(_KNOWN_ORGANIZATIONS_SQL).fetchall()]
    except duckdb.CatalogException as exc:
        raise WarehouseNotBuiltError(f"the usage marts are not built yet: run `apiwh run` ({exc})") from exc
    if organization_id not in known:
        raise UnknownIdError("organization", organization_id, known)
