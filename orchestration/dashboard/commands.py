"""`apiwh dashboard` (serve the static site on 127.0.0.1) and `apiwh report ORG`."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.readers import WarehouseNotBuiltError
from orchestration.reports.table import printable
from orchestration.settings import Settings, load_settings
from orchestration.warehouse import connect

if TYPE_CHECKING:
    from orchestration.dashboard.server import ReportSource

DEFAULT_PORT = 8000


def _open_snapshot(settings):
    """The published snapshot only: the CLI never opens the live warehouse file."""
    if not settings.snapshot_path.exists():
        raise WarehouseNotBuiltError(
            f"no published snapshot at {settings.snapshot_path}: run `make run` (or daily_refresh) first"
        )
    return connect(settings.snapshot_path, read_only=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from orchestration.dashboard.organizations import load_directory
    from orchestration.dashboard.server import DashboardServer
    from orchestration.dashboard.site import build_site

    settings = load_settings()
    site = settings.dashboard_dir
    if args.rebuild or not (site / "index.html").exists():
        with _open_snapshot(settings) as con:
            counts = build_site(con, site, load_directory(settings.organizations_file), generated_at=_now())
        print(f"Built {counts['pages']} pages from the published snapshot into {site}")
        _warn("dashboard", counts["charts_not_drawn"])
    try:
        server = DashboardServer(str(site), args.port, reports=_thirty_day_reports(settings))
    except OSError as exc:
        print(
            f"apiwh dashboard: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}; try --port N",
            file=sys.stderr,
        )
        return 2
    port = server.server_address[1]
    print(
        f"Dashboard: http://127.0.0.1:{port}/  (or open {site / 'index.html'}); Ctrl-C stops it", flush=True
    )
    _stop_on_interrupt_or_terminate()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _thirty_day_reports(settings: Settings) -> ReportSource:
    """Each customer page's "30-day report" link: `apiwh report ORG` written when asked, into a
    scratch folder, one at a time (each draws its charts in a worker process)."""
    from orchestration.dashboard.customer_view import page_name
    from orchestration.dashboard.organizations import load_directory
    from orchestration.dashboard.report import write_report
    from orchestration.errors import UserError
    from orchestration.reports.queries.site import all_organization_ids

    one_at_a_time = threading.Lock()

    def report(page: str, kind: str) -> bytes | str:
        with one_at_a_time, _open_snapshot(settings) as con:
            found = [org for org in all_organization_ids(con) if page_name(org) == f"{page}.html"]
            if not found:
                return "No such customer"
            with tempfile.TemporaryDirectory() as scratch:
                try:
                    html, csv, _ = write_report(
                        con, found[0], Path(scratch), load_directory(settings.organizations_file), days=30
                    )
                except UserError as error:  # no usage in the 30 days
                    return str(error)
                return (html if kind == "html" else csv).read_bytes()

    return report


def _warn(command: str, charts_not_drawn: list[str]) -> None:
    """A chart that could not be drawn: the page says so in its place, and so does stderr."""
    for failure in charts_not_drawn:
        print(f"apiwh {command}: warning: {failure}", file=sys.stderr)


def _stop_on_interrupt_or_terminate() -> None:
    """Ctrl-C and SIGTERM both stop the server cleanly. Set here because a server started as a
    script's background job inherits SIGINT ignored, and Python then leaves it ignored."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.dashboard.organizations import load_directory
    from orchestration.dashboard.report import write_report

    settings = load_settings()
    directory = load_directory(settings.organizations_file)
    with _open_snapshot(settings) as con:
        # A bad request is exit 2, no data for the period exit 1 (errors the CLI prints as one line).
        html_path, csv_path, charts_not_drawn = write_report(
            con,
            args.organization_id,
            Path(args.out),
            directory,
            month=args.month,
            days=args.days,
            generated_at=_now(),
            force=args.force,
        )
    _warn("report", charts_not_drawn)
    print(f"Wrote {printable(str(html_path))}\nWrote {printable(str(csv_path))}")
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from exc
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more days, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    dashboard = subparsers.add_parser(
        "dashboard", help="serve the dashboard the pipeline wrote, on http://127.0.0.1:PORT/"
    )
    dashboard.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks one"
    )
    dashboard.add_argument(
        "--rebuild", action="store_true", help="rebuild the pages from the published snapshot first"
    )
    dashboard.set_defaults(func=cmd_dashboard)

    report = subparsers.add_parser(
        "report", help="one customer's usage report to send them: an HTML file and a CSV of daily figures"
    )
    report.add_argument("organization_id", metavar="ORG", help="the organization id")
    period = report.add_mutually_exclusive_group()
    period.add_argument("--month", help="a calendar month, YYYY-MM")
    period.add_argument("--days", type=_days, help="the N days ending on the as-of date (default 30)")
    report.add_argument("--out", default=".", help="folder to write the two files into (default: here)")
    report.add_argument(
        "--force", action="store_true", help="overwrite the two files if they exist (never a symbolic link)"
    )
    report.set_defaults(func=cmd_report)
