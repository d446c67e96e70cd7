"""What a person reads: the JSON body of a delivery, a plain-text summary, a Slack message.

The figures come from the alert's detail (computed in SQL by marts.alert_candidates); the
sentences, quota headlines and drafted notes included, are written here. No Dagster, no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from orchestration.alerts.ledger import Alert
from orchestration.quota_outlook import AT_CAP, WILL_EXCEED, QuotaOutlook, quota_outlook

PIPELINE_FAILURE = "pipeline_failure"


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def _quota_outlook(detail: dict[str, Any]) -> QuotaOutlook | None:
    try:
        return quota_outlook(
            used_mtd=int(detail["used_mtd"]),
            monthly_call_limit=int(detail["monthly_call_limit"]),
            projected_eom=int(detail["projected_eom"]),
            days_to_cap=None if detail.get("days_to_cap") is None else int(detail["days_to_cap"]),
        )
    except (KeyError, TypeError, ValueError):  # a detail without the figures: generic wording
        return None


def _month(detail: dict[str, Any]) -> str:
    try:
        return dt.date.fromisoformat(str(detail["billing_month"])[:10]).strftime("%B %Y")
    except (KeyError, ValueError):
        return "this month"


def _day(value: Any) -> str:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day:%B} {day.day}"


def quota_headline(alert: Alert) -> str | None:
    """One line for sales, consistent with the drafted note: "at cap" only once used up."""
    d = alert.detail
    outlook = _quota_outlook(d)
    if outlook is None:
        return None
    org, pct = alert.organization_id, _number(d.get("pct_of_cap"))
    figures = f"{_number(d.get('used_mtd'))} of {_number(d.get('monthly_call_limit'))} calls, {_month(d)}"
    if outlook.kind == AT_CAP:
        return f"{org} has used {pct}% of its monthly quota ({figures}): at cap"
    if outlook.kind == WILL_EXCEED:
        return (
            f"{org} is at {pct}% of its monthly quota ({figures}); at this pace cap in {outlook.cap_in_words}"
        )
    return (
        f"{org} is at {pct}% of its monthly quota ({figures}); at this pace the quota resets on "
        f"{_day(d.get('quota_resets_on'))}, before the cap"
    )


def quota_note(alert: Alert) -> tuple[str, str] | None:
    """The drafted note to the account's contact: subject and body, following the projection."""
    d = alert.detail
    outlook = _quota_outlook(d)
    if outlook is None:
        return None
    org, pct, month = alert.organization_id, _number(d.get("pct_of_cap")), _month(d)
    used, limit = _number(d.get("used_mtd")), _number(d.get("monthly_call_limit"))
    plan = f" on the {d['plan_id']} plan" if d.get("plan_id") else ""
    resets = _day(d.get("quota_resets_on"))
    if outlook.kind == AT_CAP:
        return (
            "You have reached your monthly API quota",
            f"Hi {org} team, you have made {used} API calls in {month}, {pct}% of your monthly quota"
            f" of {limit} calls{plan}. Calls above the quota may be rate-limited until it resets on"
            f" {resets}. Moving to a plan with a larger quota gives you headroom; happy to set up a"
            " quick call to find the right fit.",
        )
    subject = f"Heads up: you are at {pct}% of your monthly API quota"
    if outlook.kind == WILL_EXCEED:
        return (
            subject,
            f"Hi {org} team, you are at {pct}% of your monthly quota ({used} of {limit} calls{plan})."
            f" At this pace you reach it in {outlook.cap_in_words} and end {month} at about"
            f" {_number(d.get('projected_eom'))} calls, before the quota resets on {resets}."
            " Upgrading now avoids rate-limiting; happy to set up a quick call to discuss the next tier.",
        )
    return (
        subject,
        f"Hi {org} team, you are at {pct}% of your monthly quota ({used} of {limit} calls{plan})."
        f" At this pace you stay within it until it resets on {resets} (about"
        f" {_number(d.get('projected_eom'))} calls in {month}). If you expect more traffic, we can"
        " look at a plan with more headroom.",
    )


def alert_title(alert: Alert) -> str:
    if alert.alert_type == "quota_threshold":
        headline = quota_headline(alert)
        return headline or f"{alert.organization_id} reached {alert.threshold}% of its monthly quota"
    headline = alert.detail.get("headline")
    if headline:
        return str(headline)
    if alert.alert_type == "churn_risk":
        return f"{alert.organization_id} is at risk of churning"
    return f"{alert.alert_type}: {alert.alert_key}"


def _drops(items: list[dict[str, Any]] | None, name: str) -> str:
    return ", ".join(
        f"{item.get(name)} {_number(item.get('calls_prior_7d'))} -> {_number(item.get('calls_7d'))}"
        for item in items or []
    )


def figure_lines(alert: Alert) -> list[tuple[str, str]]:
    """(label, value) pairs of the figures behind the alert, in reading order."""
    d = alert.detail
    if alert.alert_type == "quota_threshold":
        pct = d.get("pct_of_cap")
        return [
            ("Threshold", f"{alert.threshold}%"),
            ("Plan", d.get("plan_id") or "unknown"),
            ("Monthly quota", f"{_number(d.get('monthly_call_limit'))} calls"),
            ("Used this month", f"{_number(d.get('used_mtd'))} calls ({_number(pct)}% of cap)"),
            ("Used today", _number(d.get("used_today"))),
            ("Projected end of month", f"{_number(d.get('projected_eom'))} calls"),
            ("Days to cap", outlook.days_to_cap_text if (outlook := _quota_outlook(d)) else "n/a"),
            ("Quota resets on", _number(d.get("quota_resets_on"))),
        ]
    if alert.alert_type == "churn_risk":
        change = d.get("usage_change_7d_pct")
        lines = [
            ("Trend", str(d.get("trend"))),
            ("Plan", d.get("plan_id") or "unknown"),
            (
                "Calls, last 7 days",
                f"{_number(d.get('calls_7d'))} (7 days before: "
                f"{_number(d.get('calls_prior_7d'))}"
                + (f", {change:+.1f}%)" if isinstance(change, int | float) else ")"),
            ),
            ("Days since last call", _number(d.get("days_since_last_call"))),
            ("Last call at", _number(d.get("last_call_at"))),
            ("At risk since", _number(d.get("episode_start_date"))),
        ]
        endpoints = _drops(d.get("top_endpoint_drops"), "route")
        keys = _drops(d.get("top_key_drops"), "api_key_id")
        if endpoints:
            lines.append(("Endpoints that dropped most", endpoints))
        if keys:
            lines.append(("Keys that dropped most", keys))
        return lines
    if alert.alert_type == PIPELINE_FAILURE:
        return [
            ("Job", str(d.get("job_name"))),
            ("Run", str(d.get("run_id"))),
            ("Error", str(d.get("error") or "unknown")),
        ]
    return [(key, _number(value)) for key, value in sorted(d.items())]


def drafted_note(alert: Alert) -> tuple[str, str] | None:
    if alert.alert_type == "quota_threshold":
        return quota_note(alert)
    subject, body = alert.detail.get("note_subject"), alert.detail.get("note_body")
    return (str(subject), str(body)) if subject and body else None


def alert_text(alert: Alert) -> str:
    """Plain text: title, figures, drafted note."""
    lines = [alert_title(alert), ""]
    lines += [f"{label}: {value}" for label, value in figure_lines(alert)]
    note = drafted_note(alert)
    if note:
        lines += ["", f"Drafted note to the account's contact -- {note[0]}", note[1]]
    lines += ["", f"alert {alert.alert_key}"]
    return "\n".join(lines)


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The JSON object sent per alert: the contract's fields, then a readable title and text."""
    return {
        "alert_key": alert.alert_key,
        "alert_type": alert.alert_type,
        "organization_id": alert.organization_id,
        "threshold": alert.threshold,
        "as_of_date": _iso(alert.as_of_date),
        "created_at": _iso(alert.created_at),
        "title": alert_title(alert),
        "text": alert_text(alert),
        "detail": alert.detail,
    }


def json_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are sent and signed."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_ICON = {"quota_threshold": ":chart_with_upwards_trend:", "churn_risk": ":warning:"}


def slack_message(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: header, figures, drafted note, key."""
    title = _slack_escape(alert_title(alert))
    icon = _SLACK_ICON.get(alert.alert_type, ":rotating_light:")
    figures = "\n".join(
        f"*{_slack_escape(label)}:* {_slack_escape(value)}" for label, value in figure_lines(alert)
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} *{title}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": figures}},
    ]
    note = drafted_note(alert)
    if note:
        quoted = "\n".join(f">{line}" for line in _slack_escape(note[1]).splitlines())
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*Drafted note:* _{_slack_escape(note[0])}_\n{quoted}",
                },
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"`{_slack_escape(alert.alert_key)}` as of {_iso(alert.as_of_date)}",
                }
            ],
        }
    )
    return {"text": f"{icon} {title}", "blocks": blocks}


def pipeline_failure_alert(*, job_name: str, run_id: str, error: str | None, failed_at: dt.datetime) -> Alert:
    """A failed refresh, reported through the same sinks (not recorded in the ledger)."""
    return Alert(
        alert_key=f"{PIPELINE_FAILURE}:{job_name}:{run_id}",
        alert_type=PIPELINE_FAILURE,
        organization_id=None,
        threshold=None,
        detail={
            "headline": f"Pipeline run failed: {job_name} ({run_id[:8]})",
            "job_name": job_name,
            "run_id": run_id,
            "error": (error or "")[:2000] or None,
            "failed_at": _iso(failed_at),
        },
        as_of_date=None,
        created_at=failed_at,
    )
