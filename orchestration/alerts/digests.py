"""The daily sales digest and the weekly CS digest: built from the marts, recorded in the ledger.

A digest is one row of the ledger marts.alerts per period (docs/contract.md "Alerts"):
- `digest_daily`, key `digest:daily:<YYYY-MM-DD>`: the quota_threshold alerts recorded since the
  previous daily digest (or in the last day when there is none), with each account's action,
  next plan and MRR delta from marts.quota_outlook;
- `digest_weekly`, key `digest:weekly:<ISO year>-W<ww>`: the ISO week that ended before the
  digest's day (a Monday's digest covers Monday to Sunday before it): movers, new churn risks
  and failing integrations, incidents and the customers they hit, stuck onboarding keys, and
  the quota outcomes of the last complete month.
Its detail is the content as JSON, so any retry re-renders the same digest
(orchestration/alerts/digest_render.py). Recorded with `on conflict do nothing`: a rerun of the
period keeps the first row and sends nothing new. Delivery is the ledger's (delivery.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.delivery import DeliveryReport, deliver_pending
from orchestration.alerts.digest_render import DIGEST_DAILY, DIGEST_WEEKLY, digest_markdown
from orchestration.alerts.ledger import Alert, ensure_ledger, get_alert, record_alert
from orchestration.alerts.render import alert_title
from orchestration.alerts.sinks import Sink
from orchestration.readers import read_as_of
from orchestration.reports.queries import digests as queries
from orchestration.snapshot import publish_snapshot

KINDS = {"daily": DIGEST_DAILY, "weekly": DIGEST_WEEKLY}
MOVERS_PER_DIRECTION = 5
STUCK_KEYS_SHOWN = 20


@dataclass(frozen=True)
class Week:
    monday: dt.date
    sunday: dt.date

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


def week_before(day: dt.date) -> Week:
    """The ISO week that ended before `day` (on a Monday, the seven days just gone)."""
    sunday = day - dt.timedelta(days=day.isoweekday())
    return Week(sunday - dt.timedelta(days=6), sunday)


def digest_key(kind: str, day: dt.date) -> str:
    period = week_before(day).label if kind == "weekly" else day.isoformat()
    return f"digest:{kind}:{period}"


def _plain(value: Any) -> Any:
    """The detail as it comes back from the ledger's JSON (dates as text), so the preview and
    every retry render the very same words."""
    return json.loads(json.dumps(value, default=str))


def _row(item: Any) -> dict[str, Any]:
    return dataclasses.asdict(item)


def _previous_until(con: duckdb.DuckDBPyConnection, day: dt.date) -> dt.datetime | None:
    """Where the previous daily digest's window ended, so that windows follow each other with no
    gap (a digest recorded late covers up to its day's end, not to when it was recorded)."""
    previous = queries.previous_digest(con, DIGEST_DAILY, day)
    if previous is None:
        return None
    recorded_at, detail = previous
    until = detail.get("until")
    try:
        return dt.datetime.fromisoformat(until) if isinstance(until, str) else recorded_at
    except ValueError:
        return recorded_at


def build_daily(con: duckdb.DuckDBPyConnection, day: dt.date, *, now: dt.datetime) -> Alert:
    until = min(now, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    since = _previous_until(con, day)
    crossings = queries.quota_crossings(con, after=since or until - dt.timedelta(days=1), until=until)
    accounts: dict[str, dict[str, Any]] = {}
    for crossing in crossings:  # one line per account, listing every threshold it crossed
        figures = crossing.detail
        account = accounts.setdefault(
            crossing.organization_id,
            {
                "organization_id": crossing.organization_id,
                "thresholds": [],
                "alert_keys": [],
                "plan_id": crossing.plan_id or figures.get("plan_id"),
                "monthly_call_limit": figures.get("monthly_call_limit"),
                "pct_of_cap": figures.get("pct_of_cap")
                if crossing.pct_of_cap is None
                else crossing.pct_of_cap,
                "action": crossing.action or figures.get("action"),
                "outlook": crossing.outlook or figures.get("outlook"),
                "next_plan_id": crossing.next_plan_id,
                "upgrade_mrr_delta": crossing.upgrade_mrr_delta,
            },
        )
        account["thresholds"].append(crossing.threshold)
        account["alert_keys"].append(crossing.alert_key)
    detail = {
        "digest": "daily",
        "period": day.isoformat(),
        "marts_as_of_date": read_as_of(con),
        "since": since,
        "until": until,
        "accounts": list(accounts.values()),
    }
    return Alert(digest_key("daily", day), DIGEST_DAILY, None, None, _plain(detail), day)


def _raised(con: duckdb.DuckDBPyConnection, alert_type: str, week: Week) -> list[dict[str, Any]]:
    found = queries.alerts_in_window(con, alert_type, week.monday, week.sunday)
    return [
        {
            "alert_key": a.alert_key,
            "organization_id": a.organization_id,
            "as_of_date": a.as_of_date,
            "title": alert_title(
                Alert(a.alert_key, a.alert_type, a.organization_id, a.threshold, a.detail, a.as_of_date)
            ),
        }
        for a in found
    ]


def _same_incident(customer: queries.IncidentCustomer, incident: queries.Incident) -> bool:
    return (customer.route, customer.method, customer.usage_date) == (
        incident.route,
        incident.method,
        incident.usage_date,
    )


def build_weekly(con: duckdb.DuckDBPyConnection, day: dt.date) -> Alert:
    week = week_before(day)
    marts_as_of = read_as_of(con)
    incidents, hit = queries.incidents(con, week.monday, week.sunday)
    stuck = queries.stuck_keys(con, limit=STUCK_KEYS_SHOWN + 1)
    # The last complete month that quota_outcomes can judge: the one before the marts' month.
    month = (marts_as_of or day).replace(day=1) - dt.timedelta(days=1)
    outcomes = queries.outcome_counts(con, month.replace(day=1))
    detail = {
        "digest": "weekly",
        "period": week.label,
        "week_start": week.monday,
        "week_end": week.sunday,
        "marts_as_of_date": marts_as_of,
        "movers_up": [_row(m) for m in queries.movers(con, "up", limit=MOVERS_PER_DIRECTION)],
        "movers_down": [_row(m) for m in queries.movers(con, "down", limit=MOVERS_PER_DIRECTION)],
        "churn_risks": _raised(con, "churn_risk", week),
        "failing_integrations": _raised(con, "integration_failing", week),
        "incidents": [
            {
                **_row(incident),
                "customers": [_row(c) for c in hit if _same_incident(c, incident)],
            }
            for incident in incidents
        ],
        "stuck_keys": [_row(k) for k in stuck[:STUCK_KEYS_SHOWN]],
        "stuck_keys_more": len(stuck) > STUCK_KEYS_SHOWN,
        "quota_outcomes": {
            "billing_month": month.replace(day=1),
            "accounts": outcomes[0].accounts_in_month if outcomes else 0,
            "is_next_month_complete": outcomes[0].is_next_month_complete if outcomes else None,
            "outcomes": [{"outcome": o.outcome, "accounts": o.accounts_with_outcome} for o in outcomes],
        },
    }
    return Alert(digest_key("weekly", day), DIGEST_WEEKLY, None, None, _plain(detail), week.sunday)


def build_digest(con: duckdb.DuckDBPyConnection, kind: str, day: dt.date, *, now: dt.datetime) -> Alert:
    if kind == "daily":
        return build_daily(con, day, now=now)
    return build_weekly(con, day)


def markdown_path(data_dir: Path, alert: Alert) -> Path:
    """<warehouse dir>/digests/<daily|weekly>-<period>.md"""
    return data_dir / "digests" / f"{alert.detail['digest']}-{alert.detail['period']}.md"


def record_digest(con: duckdb.DuckDBPyConnection, alert: Alert, *, now: dt.datetime, data_dir: Path) -> bool:
    """Record the digest unless its period has one; write its Markdown file when new. True if new."""
    ensure_ledger(con)
    recorded = record_alert(con, alert, now=now)
    if recorded:
        path = markdown_path(data_dir, alert)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(digest_markdown(get_alert(con, alert.alert_key) or alert), encoding="utf-8")
    return recorded


@dataclass(frozen=True)
class DigestRun:
    alert: Alert
    recorded: bool
    markdown: Path
    delivery: DeliveryReport

    def summary(self) -> str:
        state = "recorded" if self.recorded else "already recorded (kept)"
        return f"{self.alert.alert_key}: {state} ({self.markdown}); delivery: {self.delivery.summary()}"


def record_and_deliver(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    day: dt.date,
    *,
    sinks: Sequence[Sink],
    alert_settings: AlertSettings,
    data_dir: Path,
    log: Callable[[str], None] | None = None,
) -> DigestRun:
    """Build the period's digest from the marts, record it once, deliver what is pending."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    alert = build_digest(con, kind, day, now=now)
    recorded = record_digest(con, alert, now=now, data_dir=data_dir)
    report = deliver_pending(
        con,
        sinks,
        now=now,
        max_attempts=alert_settings.max_attempts,
        backoff_seconds=alert_settings.backoff_seconds,
        backoff_max_seconds=alert_settings.backoff_max_seconds,
        log=log,
    )
    stored = get_alert(con, alert.alert_key) or alert
    return DigestRun(stored, recorded, markdown_path(data_dir, alert), report)


def republish(con: duckdb.DuckDBPyConnection, snapshot_path: Path) -> str | None:
    """Refresh the published snapshot so that readers (`apiwh alerts`) see the digest's row and
    the new delivery states; the reason when it could not (the digest is recorded all the same)."""
    if not snapshot_path.exists():
        return None
    try:
        publish_snapshot(con, snapshot_path)
    except (OSError, duckdb.Error) as exc:
        return f"could not republish the snapshot: {exc}"
    return None
