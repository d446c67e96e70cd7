"""`apiwh digest daily|weekly [--preview] [--as-of DATE]`: the sales and CS digests by hand.

--preview prints the digest as Markdown from the published snapshot and records nothing. Without
it the digest of the period is recorded in the ledger (once: a rerun keeps the first row) and
every pending alert, the digest included, is delivered to the sinks, as `apiwh deliver` does.
"""

from __future__ import annotations

import argparse
import datetime as dt

from orchestration.alerts.digest_render import digest_markdown
from orchestration.alerts.digests import KINDS, build_digest, digest_key, record_and_deliver, republish
from orchestration.alerts.ledger import utc_now
from orchestration.alerts.names import with_display_names
from orchestration.alerts.sinks import build_sinks
from orchestration.dashboard.organizations import load_directory
from orchestration.errors import UserError
from orchestration.readers import open_marts_connection
from orchestration.settings import load_alert_settings, load_settings, with_alert_routes
from orchestration.warehouse import connect


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_digest(args: argparse.Namespace) -> int:
    settings = load_settings()
    day = args.as_of or utc_now().date()
    if args.preview:
        with open_marts_connection(settings) as con:
            alert = build_digest(con, args.kind, day, now=utc_now())
        print(digest_markdown(alert), end="")
        return 0
    # The sinks as deliver_alerts builds them: the routes file read now, before anything is sent.
    alert_settings = with_alert_routes(load_alert_settings(settings))
    if not settings.warehouse_path.exists():
        raise UserError(f"no warehouse at {settings.warehouse_path}: run `apiwh run` first")
    sinks = with_display_names(build_sinks(alert_settings), load_directory(settings.organizations_file))
    with connect(settings.warehouse_path, memory_limit=settings.duckdb_memory_limit) as con:
        run = record_and_deliver(
            con, args.kind, day, sinks=sinks, alert_settings=alert_settings, data_dir=settings.data_dir
        )
        problem = republish(con, settings.snapshot_path)
    print(run.summary())
    if problem:
        print(f"warning: {problem}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "digest",
        help="record and send the daily sales digest or the weekly CS digest (or preview it)",
        description=(
            "The daily sales digest (accounts that crossed a quota threshold since the last one, "
            "with action, next plan and MRR delta) or the weekly CS digest (movers, new churn "
            "risks and failing integrations, incidents, stuck onboarding keys, quota outcomes). "
            f"Recorded once per period in the alert ledger ({digest_key('weekly', dt.date(2026, 12, 7))}, "
            "...) and delivered like alerts."
        ),
    )
    parser.add_argument("kind", choices=sorted(KINDS), help="daily (sales) or weekly (customer success)")
    parser.add_argument(
        "--preview", action="store_true", help="print the digest as Markdown; record and send nothing"
    )
    parser.add_argument(
        "--as-of",
        type=_day,
        metavar="DATE",
        help="the digest's day (YYYY-MM-DD; default today, UTC); weekly: the ISO week ended before it",
    )
    parser.set_defaults(func=cmd_digest)
