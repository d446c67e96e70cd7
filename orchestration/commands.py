"""Operator commands: load, run the pipeline, and see what was loaded, rejected and built."""

from __future__ import annotations

import argparse
import sys

from orchestration.errors import UsageError
from orchestration.loading import FileResult, load_directory
from orchestration.privacy.commands import status_line as erasure_status_line
from orchestration.privacy.retention import status_line as retention_status_line
from orchestration.readers import (
    WarehouseNotBuiltError,
    live_changed_since,
    read_as_of,
    read_published_at,
)
from orchestration.reports.output import add_output_arguments, row_limit
from orchestration.reports.table import printable
from orchestration.settings import Settings, ip_salt_warning, load_settings
from orchestration.sql_command import write_rows
from orchestration.warehouse import connect, table_exists

STAGING_TABLES = (
    "staging.stg_events",
    "staging.stg_api_requests",
    "staging.stg_quota_changes",
    "staging.stg_key_events",
)


def _print_progress(index: int, total: int, result: FileResult) -> None:
    if result.status == "skipped":
        return
    detail = f"{result.events:,} events, {result.rejects:,} rejected"
    if result.error:
        detail = result.error
    print(f"  [{index}/{total}] {result.path}: {result.status} ({detail})", file=sys.stderr)


def cmd_load(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.raw_data_dir.is_dir():
        # Checked before connecting, which would create an empty warehouse file.
        raise UsageError(f"RAW_DATA_DIR {settings.raw_data_dir} is not a folder: nothing loaded")
    print(f"Loading new files from {settings.raw_data_dir} into {settings.warehouse_path}")
    with connect(settings.warehouse_path) as con:
        report = load_directory(
            con,
            settings.raw_data_dir,
            salt=settings.ip_hash_salt,
            progress=_print_progress,
            settle_seconds=settings.landing_settle_seconds,
            max_decompressed_bytes=settings.max_file_decompressed_bytes,
            max_lines=settings.max_file_lines,
        )
    print(report.summary())
    return 0


def _open_live_read_only(settings: Settings):
    if not settings.warehouse_path.exists():
        raise WarehouseNotBuiltError(f"no warehouse at {settings.warehouse_path}: run `apiwh run` first")
    return connect(settings.warehouse_path, read_only=True)


def cmd_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    with _open_live_read_only(settings) as con:
        files = con.execute(
            """
            select status, count(*), sum(events), sum(rejects), sum(blank_lines)
            from raw.loaded_files group by status order by status
            """
        ).fetchall()
        print(f"Warehouse {settings.warehouse_path}")
        last = con.execute(
            """
            select max(loaded_at), count(*) filter (where loaded_at = (select max(loaded_at)
                from raw.loaded_files))
            from raw.loaded_files
            """
        ).fetchall()[0]
        if last[0] is not None:
            print(f"Last load that found new files: {last[0]:%Y-%m-%d %H:%M} UTC ({last[1]:,} file(s))")
        print("Raw files by status (all loads):")
        for status, n, events, rejects, blank in files:
            print(
                f"  {status:<8} {n:>6,} file(s)  {events:>12,} events  {rejects:>8,} rejected"
                f"  {blank:>6,} blank lines"
            )
        totals = con.execute(
            """
            select
                (select count(*) from raw.events),
                (select count(*) from raw.event_rejects),
                (select count(distinct event_id) from raw.events)
            """
        ).fetchall()[0]
        print(
            f"raw.events {totals[0]:,} rows ({totals[2]:,} distinct event ids), "
            f"raw.event_rejects {totals[1]:,} rows"
        )
        (conflicts,) = con.execute(
            """
            select count(*) from (
                select event_id from raw.events
                group by event_id having count(distinct payload_md5) > 1
            )
            """
        ).fetchall()[0]
        if conflicts:
            print(
                f"  {conflicts:,} event id(s) redelivered with a different payload "
                "(the copy loaded first is kept)"
            )
        print("Staging:")
        for table in STAGING_TABLES:
            if table_exists(con, *table.split(".")):
                n = con.execute(f"select count(*) from {table}").fetchall()[0][0]
                print(f"  {table:<28} {n:>12,} rows")
            else:
                print(f"  {table:<28} not built yet")
        marts = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name"
        ).fetchall()
        if marts:
            print("Marts:")
            for (table,) in marts:
                n = con.execute(f'select count(*) from marts."{table}"').fetchall()[0][0]
                print(f"  marts.{table:<22} {n:>12,} rows")
        if table_exists(con, "intermediate", "int_as_of_date"):
            as_of = con.execute("select as_of_date from intermediate.int_as_of_date").fetchall()
            if as_of:
                print(f"As-of date of the live warehouse: {as_of[0][0]}")
        print(retention_status_line(con, settings))
    print(describe_snapshot(settings))
    erasures = erasure_status_line(settings)
    if erasures:
        print(erasures)
    salt_warning = ip_salt_warning(settings)  # about the salt the next run would use
    if salt_warning:
        print(f"Warning: {salt_warning}")
    return 0


def describe_snapshot(settings: Settings) -> str:
    """One line on what readers (top, quota, sql, ...) see, and whether it is behind."""
    if not settings.snapshot_path.exists():
        return "Published snapshot: none yet (`apiwh run` or `apiwh publish` writes it)"
    with connect(settings.snapshot_path, read_only=True) as con:
        as_of, published_at = read_as_of(con), read_published_at(con)
        stale = live_changed_since(con, settings.warehouse_path)
    line = f"Published snapshot (what readers see): as-of date {as_of or 'unknown'}"
    if published_at:
        line += f", published {published_at:%Y-%m-%d %H:%M} UTC"
    if stale:
        line += "; the live warehouse changed since: `apiwh publish` updates it"
    return line


REJECT_COLUMNS = ("source_file", "line_number", "reason", "snippet", "rejected_at")


def cmd_rejects(args: argparse.Namespace) -> int:
    settings = load_settings()
    with _open_live_read_only(settings) as con:
        rows = con.execute(
            f"""
            select {", ".join(REJECT_COLUMNS)}
            from raw.event_rejects
            order by rejected_at desc, source_file, line_number
            limit ?
            """,
            [row_limit(args)],
        ).fetchall()
        if args.format != "table":
            # raw.event_rejects' rows, the newest first.
            write_rows(REJECT_COLUMNS, rows, args.format)
            return 0
        # The load's own tally of what it refused (raw tables, not marts: an operator's view).
        by_reason = con.execute(
            "select reason, count(*) from raw.event_rejects group by reason order by 2 desc, 1"
        ).fetchall()
        failed = con.execute(
            "select path, error from raw.loaded_files where status = 'failed' order by path"
        ).fetchall()
    print(f"{sum(n for _, n in by_reason):,} rejected line(s)")
    for reason, n in by_reason:
        print(f"  {n:>8,}  {printable(reason)}")
    if rows:
        print(f"\nMost recent {len(rows)}:")
        for source_file, line_number, reason, snippet, _ in rows:
            print(f"  {printable(source_file)}:{line_number}: {printable(reason)}")
            print(f"      {printable(snippet or '')[:120]}")
    if failed:
        print(f"\n{len(failed)} file(s) rejected whole:")
        for path, error in failed:
            print(f"  {path}: {error}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    load = subparsers.add_parser(
        "load", help="load new raw files from RAW_DATA_DIR into the warehouse (no dbt), with progress"
    )
    load.set_defaults(func=cmd_load)
    status = subparsers.add_parser(
        "status", help="what was loaded, rejected and built (files, events, row counts)"
    )
    status.set_defaults(func=cmd_status)
    rejects = subparsers.add_parser("rejects", help="rejected lines and files, with reasons")
    add_output_arguments(rejects, table_limit=20, what="latest rejected lines")
    rejects.set_defaults(func=cmd_rejects)
