"""`apiwh report ORG`: one customer's usage over a period, as an HTML file and a CSV.

The report leaves the company, so it is built only from queries bound to that one organization
id and from that organization's entry in the organizations file: no other customer's id, name,
contact or figure can reach either file (tests/integration/test_dashboard_browser.py searches
every byte). It speaks to the customer: the quota outlook in their terms
(verdict_words.customer_quota_sentence), never the sales team's action or upsell words.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.dashboard import customer_view, words
from orchestration.dashboard.chart_batch import ChartBatch
from orchestration.dashboard.organizations import Directory
from orchestration.dashboard.render import header, render_page
from orchestration.errors import UsageError, UserError
from orchestration.reports.queries import customers as customer_queries
from orchestration.reports.queries import site as queries

DEFAULT_DAYS = 30


class ReportError(UsageError):
    """The report cannot be made as asked (exit 2); the message says why in one line."""


class NoReportDataError(UserError):
    """A valid question with no data for the period asked (exit 1)."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    month: dt.date | None  # first day of the calendar month asked for, else None

    @property
    def label(self) -> str:
        if self.month is not None:
            return f"{self.month:%Y-%m}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def parse_month(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}", text or ""):
        raise ReportError(f"--month must be YYYY-MM, got {text!r}")
    try:
        return dt.date(int(text[:4]), int(text[5:]), 1)
    except ValueError as exc:
        raise ReportError(f"--month must be YYYY-MM, got {text!r}") from exc


def choose_period(as_of: dt.date, *, month: str | None, days: int | None) -> Period:
    """A calendar month (cut at the as-of date), or the N days ending on the as-of date."""
    if month is not None:
        first = parse_month(month)
        if first > as_of:
            raise NoReportDataError(f"no data for {first:%Y-%m} yet: the latest day is {as_of.isoformat()}")
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return Period(first, min(last, as_of), first)
    count = DEFAULT_DAYS if days is None else days
    if count < 1:
        raise ReportError(f"--days must be 1 or more, got {count}")
    return Period(as_of - dt.timedelta(days=count - 1), as_of, None)


# The CSV is written by DuckDB: the organization's days joined with its quota on each day.
_CSV_SQL = """
copy (
    select
        daily.usage_date as date,
        daily.plan_id,
        daily.calls,
        daily.successful_calls,
        daily.client_errors,
        daily.server_errors,
        daily.rate_limited_calls,
        round(daily.error_rate, 6) as error_rate,
        round(daily.latency_p50_ms, 3) as latency_p50_ms,
        round(daily.latency_p95_ms, 3) as latency_p95_ms,
        round(daily.latency_p99_ms, 3) as latency_p99_ms,
        quota.monthly_call_limit,
        quota.used_mtd,
        quota.pct_of_cap,
        quota.projected_eom
    from marts.customer_daily_usage as daily
    left join marts.quota_utilization as quota
        on daily.organization_id = quota.organization_id and daily.usage_date = quota.usage_date
    where daily.organization_id = $organization_id and daily.usage_date between $start and $end
    order by daily.usage_date
) to '{path}' (header true, delimiter ',')
"""


def _check_targets(paths: tuple[Path, ...], *, force: bool) -> None:
    """Never write through a symbolic link, and never over a file unless asked (--force)."""
    folder = paths[0].parent
    if folder.exists() and not folder.is_dir():
        raise ReportError(f"--out {folder} is a file, not a folder")
    for path in paths:
        if path.is_symlink():
            raise ReportError(f"{path} is a symbolic link: not writing through it; remove it first")
    for path in paths:
        if path.exists() and (path.is_dir() or not force):
            what = "a folder" if path.is_dir() else "a file"
            raise ReportError(f"{path} is already {what}: --force overwrites a file")


def _replace(path: Path, write) -> None:
    """Write a sibling temporary file with `write(temp)`, then rename it onto path: a rename
    replaces whatever is at path (even a link made meanwhile) and never follows it."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.writing")
    temp.unlink(missing_ok=True)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _copy_csv(con: duckdb.DuckDBPyConnection, path: Path, organization_id: str, period: Period) -> None:
    # COPY takes no bound file name; the path is ours (quotes doubled), the values are bound.
    sql = _CSV_SQL.format(path=str(path).replace("'", "''"))
    con.execute(sql, {"organization_id": organization_id, "start": period.start, "end": period.end})


def write_report(
    con: duckdb.DuckDBPyConnection,
    organization_id: str,
    out_dir: Path,
    directory: Directory,
    *,
    month: str | None = None,
    days: int | None = None,
    generated_at: dt.datetime | None = None,
    force: bool = False,
) -> tuple[Path, Path, list[str]]:
    """Write <org>-usage-<period>.html and .csv into out_dir; return both paths and the charts
    that could not be drawn (the report then says so where each would be)."""
    health = queries.data_health(con)
    as_of = health.get("as_of_date")
    if as_of is None:
        raise ReportError("the marts have no as-of date yet: run `make run` first")
    known = queries.all_organization_ids(con)
    if organization_id not in known:
        raise ReportError(words.unknown_organization(organization_id, known))
    period = choose_period(as_of, month=month, days=days)
    own = directory.only(organization_id)
    name = own.name(organization_id)
    stem = customer_view.page_name(organization_id).removesuffix(".html") + f"-usage-{period.label}"
    html_path, csv_path = out_dir / f"{stem}.html", out_dir / f"{stem}.csv"
    _check_targets((html_path, csv_path), force=force)
    if not customer_queries.customer_daily(con, [organization_id], period.start, period.end)[organization_id]:
        raise NoReportDataError(
            f"{organization_id} has no usage from {period.start.isoformat()} to {period.end.isoformat()}:"
            " the report would be empty"
        )
    # Drawn here (in a worker process): the report is sent as a file and must show its charts
    # without a script.
    batch = ChartBatch()
    context = customer_view.period_contexts(
        con, [organization_id], period.start, period.end, own, draw=batch.svg
    )[organization_id]
    # Only the as-of date and refresh time from the header: the health figures are everyone's.
    common = header(health, generated_at=generated_at)
    common.update(health_text=None, health_bad=False)
    html = render_page(
        "report.html.j2",
        title=f"API usage report: {name}",
        nav=None,
        name=name,
        period=words.period_title(period.start, period.end, month=period.month, as_of=as_of),
        plan=context["plan_id"],
        csv_name=csv_path.name,
        **context,
        **common,
    )
    batch.draw()
    html = batch.fill(html)
    out_dir.mkdir(parents=True, exist_ok=True)
    _replace(html_path, lambda temp: temp.write_text(html, encoding="utf-8"))
    _replace(csv_path, lambda temp: _copy_csv(con, temp, organization_id, period))
    return html_path, csv_path, [str(failure) for failure in batch.failures]
