"""`apiwh erase --org ORG | --developer DEV [--dry-run]`, and the erasure line of `apiwh status`."""

from __future__ import annotations

import argparse
import sys

from orchestration.errors import UserError
from orchestration.privacy import certificate
from orchestration.privacy.subjects import Subject
from orchestration.reports.table import printable
from orchestration.settings import Settings, load_settings
from orchestration.warehouse import connect


def _subject_id(text: str) -> str:
    value = text.strip()
    if not value:
        raise argparse.ArgumentTypeError("an id cannot be empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise argparse.ArgumentTypeError(f"{printable(value)!r} has a control character; ids never do")
    return value


def _say(message: str) -> None:
    print(f"erase: {message}", file=sys.stderr, flush=True)


def _plan(settings: Settings, subject: Subject) -> int:
    from orchestration.privacy.erase import rows_about

    if not settings.warehouse_path.exists():
        raise UserError(f"no warehouse at {settings.warehouse_path}: nothing to erase")
    with connect(settings.warehouse_path, read_only=True) as con:
        rows = rows_about(con, subject)
    who = printable(subject.describe())
    if not rows:
        print(
            f"{who} has no rows in the warehouse. Erasing it adds it to the erasure list, so later"
            " files drop its events."
        )
        return 0
    print(f"Erasing {who} would remove {sum(rows.values()):,} rows from {len(rows)} tables:")
    for table, n in rows.items():
        print(f"  {table:<48} {n:>12,}")
    print(
        "and rewrite the warehouse file, the published snapshot, the dashboard, the Parquet landing"
        " and every text file (alerts.jsonl, digests, logs) that names it. Nothing was changed."
    )
    return 0


def _refuse_history_loss(settings: Settings) -> None:
    """The erase rebuilds every model from raw: with days past retention that loses them."""
    from orchestration.loading.sealed_days import last_sealed_day

    if not settings.warehouse_path.exists():
        return
    with connect(settings.warehouse_path, read_only=True) as con:
        sealed = last_sealed_day(con)
    if sealed is not None:
        raise UserError(
            f"erase rebuilds every model from raw, which no longer holds the calls through {sealed}"
            " (past retention): every mart would lose those days. Rerun with --allow-history-loss"
            " to erase anyway (docs/governance.md)"
        )


def cmd_erase(args: argparse.Namespace) -> int:
    from orchestration.privacy.erase import erase

    settings = load_settings()
    subject = Subject("organization", args.org) if args.org else Subject("developer", args.developer)
    if args.dry_run:
        return _plan(settings, subject)
    if not args.allow_history_loss:
        _refuse_history_loss(settings)
    issued = erase(settings, subject, _say)
    removed = issued["rows_removed"]
    scan = issued["scan"]
    print(
        f"Erased {printable(subject.describe())}: {sum(removed.values()):,} rows from {len(removed)} tables,"
        f" {len(issued['files'])} files and folders rewritten."
    )
    print(
        f"Scan of {scan['files_scanned']:,} files ({scan['bytes_scanned'] / 1e6:,.1f} MB):"
        + (
            " the id is found nowhere."
            if scan["clean"]
            else f" the id is still in {', '.join(scan['found_in'])}."
        )
    )
    print(f"Certificate: {issued['path']}")
    return 0 if scan["clean"] else 1


def status_line(settings: Settings) -> str | None:
    """`apiwh status`: how many erasures, and the latest certificate's verdict."""
    count, newest = certificate.latest(settings)
    if newest is None:
        return None
    verdict = "scan clean" if newest["scan"]["clean"] else "ID STILL FOUND"
    return (
        f"Erasures: {count:,} (latest {newest['erased_at'].replace('T', ' ')} UTC, {newest['subject_kind']}"
        f" {newest['id_hash'][:12]}, {verdict}; certificate {newest['path']})"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    erase = subparsers.add_parser(
        "erase",
        help="erase one organization or developer from everything the warehouse holds, with a certificate",
        description=(
            "Removes every row about the subject (raw events, rejects, alerts, every model rebuilt"
            " without it), rewrites the warehouse file, snapshot, dashboard and landing, drops the"
            " lines that name it from alerts.jsonl, digests and logs, and keeps a salted hash of the"
            " id so later files drop its events as `erased` rejects. Writes a certificate to"
            " <warehouse dir>/erasures/ (docs/governance.md). Exit 1 if the scan still finds the id."
        ),
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", type=_subject_id, metavar="ORG", help="an organization_id")
    who.add_argument("--developer", type=_subject_id, metavar="DEV", help="a developer_id")
    erase.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    erase.add_argument(
        "--allow-history-loss",
        action="store_true",
        help="erase even though the rebuild drops the days past retention from every mart",
    )
    erase.set_defaults(func=cmd_erase)
