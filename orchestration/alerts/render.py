"""What a person reads: the JSON body of a delivery, a plain-text summary, a Slack message.

The figures come from the alert's detail (computed in SQL by marts.alert_candidates); every
sentence is written in Python: the quota headlines and notes in quota_notes.py, the churn ones in
churn_notes.py, the reliability
alerts' words (usage_spike, key_sharing_suspect, integration_failing, endpoint_degradation) in
reliability_notes.py, the rest (refresh_failed included) here. No Dagster, no I/O.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from orchestration.alerts import digest_render
from orchestration.alerts.churn_notes import churn_headline, churn_note
from orchestration.alerts.formatting import iso as _iso
from orchestration.alerts.formatting import number as _number
from orchestration.alerts.ledger import Alert
from orchestration.alerts.quota_notes import (
    display_name,
    quota_figure_lines,
    quota_headline,
    quota_note,
)
from orchestration.alerts.quota_notes import upgrade_offer as upgrade_offer  # the priced paragraph
from orchestration.alerts.reliability_notes import (
    RELIABILITY_FIGURES,
    RELIABILITY_NOTES,
    affected_organization_label,
    reliability_title,
)

# A failed daily_refresh (orchestration/alerts/refresh_failure.py records and sends it).
REFRESH_FAILED = "refresh_failed"
_ALERT_FIELDS = {field.name for field in dataclasses.fields(Alert)}


def as_alert(row: Alert | Mapping[str, Any]) -> Alert:
    """An Alert from a row of marts.alerts (the dashboard reads them as dicts), detail parsed."""
    if isinstance(row, Alert):
        return row
    detail = row.get("detail")
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            detail = {}
    fields = {name: value for name, value in row.items() if name in _ALERT_FIELDS}
    fields.setdefault("alert_key", "")
    fields.setdefault("as_of_date", None)
    fields.setdefault("organization_id", None)
    fields.setdefault("threshold", None)
    return Alert(**{**fields, "detail": detail if isinstance(detail, dict) else {}})


def alert_title(row: Alert | Mapping[str, Any]) -> str:
    """The one title of an alert on every face: the delivered message, `apiwh alerts` and the
    dashboard's customer pages (which pass marts.alerts rows)."""
    alert = as_alert(row)
    if digest_render.is_digest(alert):  # the digests have their own words (digest_render.py)
        return digest_render.digest_title(alert)
    if alert.alert_type == REFRESH_FAILED:
        return refresh_failed_title(alert.detail)
    if alert.alert_type == "quota_threshold":
        headline = quota_headline(alert) or alert.detail.get("headline")
        return headline or f"{alert.organization_id} reached {alert.threshold}% of its monthly quota"
    if alert.alert_type == "churn_risk":
        headline = churn_headline(alert.detail, display_name(alert))
    else:
        headline = reliability_title(alert)
    headline = headline or alert.detail.get("headline")  # an alert recorded with drafted words
    if headline:
        return str(headline)
    if alert.alert_type == "churn_risk":
        return f"{alert.organization_id} is at risk of churning"
    return f"{alert.alert_type}: {alert.alert_key}"


def refresh_failed_title(d: dict[str, Any]) -> str:
    step = f" at step {d['failed_step']}" if d.get("failed_step") else ""
    error = d.get("error") or "unknown error"
    return f"{d.get('job_name')} failed{step} (run {str(d.get('run_id'))[:8]}): {error}"


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
            *quota_figure_lines(d),
            *_price_lines(d),
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
    if alert.alert_type in RELIABILITY_FIGURES:
        return RELIABILITY_FIGURES[alert.alert_type](d)
    if alert.alert_type == REFRESH_FAILED:
        return [
            ("Job", str(d.get("job_name"))),
            ("Run", str(d.get("run_id"))),
            ("Failed step", str(d.get("failed_step") or "none (the run failed outside its steps)")),
            ("Error", str(d.get("error") or "unknown")),
            ("Failed at", _number(d.get("failed_at"))),
            ("Log", str(d.get("log_path") or "the run's page in the Dagster UI")),
        ]
    return [(key, _number(value)) for key, value in sorted(d.items())]


def _money(value: float, *, signed: bool = False) -> str:
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _price_lines(d: dict[str, Any]) -> list[tuple[str, str]]:
    """The plan catalogue's figures (marts.upgrade_opportunities), when it priced this plan."""
    if d.get("plan_monthly_price") is None:
        return []
    lines = []
    if d.get("next_plan_id") is not None:
        lines.append(
            (
                "Next plan",
                f"{d['next_plan_id']}: {_number(d.get('next_plan_call_limit'))} calls a month,"
                f" {_money(d['next_plan_monthly_price'])} a month"
                f" ({_money(d['upgrade_mrr_delta'], signed=True)} MRR)",
            )
        )
    lines.append(
        (
            "Overage at the current pace",
            f"{_number(d.get('overage_calls_at_pace'))} calls, {_money(d['overage_cost_at_pace'])}",
        )
    )
    return lines


def drafted_note(alert: Alert) -> tuple[str, str] | None:
    if alert.alert_type in RELIABILITY_NOTES:
        return RELIABILITY_NOTES[alert.alert_type](alert)
    if alert.alert_type == "quota_threshold":
        note = quota_note(alert)
    elif alert.alert_type == "churn_risk":
        note = churn_note(alert.detail, display_name(alert))
    else:
        note = None
    if note is None:  # an alert recorded with its note drafted in the detail, without figures
        subject, body = alert.detail.get("note_subject"), alert.detail.get("note_body")
        note = (str(subject), str(body)) if subject and body else None
    return note


def note_recipients(alert: Alert) -> str:
    if alert.alert_type == "endpoint_degradation":
        affected = alert.detail.get("affected_organizations") or []
        labels = [affected_organization_label(entry) for entry in affected if isinstance(entry, dict)]
        return "the affected organizations' contacts" + (f" ({', '.join(labels)})" if labels else "")
    return "the account's contact"


def alert_text(alert: Alert) -> str:
    """Plain text: title, figures, drafted note."""
    if digest_render.is_digest(alert):
        return digest_render.digest_text(alert)
    lines = [alert_title(alert), ""]
    lines += [f"{label}: {value}" for label, value in figure_lines(alert)]
    note = drafted_note(alert)
    if note:
        lines += ["", f"Drafted note to {note_recipients(alert)} -- {note[0]}", note[1]]
    lines += ["", f"alert {alert.alert_key}"]
    return "\n".join(lines)


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The JSON object sent per alert: the contract's fields, then a readable title and text."""
    if digest_render.is_digest(alert):
        return digest_render.digest_payload(alert)
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


_SLACK_ICON = {
    "quota_threshold": ":chart_with_upwards_trend:",
    "churn_risk": ":warning:",
    "usage_spike": ":zap:",
    "key_sharing_suspect": ":key:",
    "integration_failing": ":x:",
    "endpoint_degradation": ":fire:",
    REFRESH_FAILED: ":rotating_light:",
}


def slack_message(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: header, figures, drafted note, key."""
    if digest_render.is_digest(alert):
        return digest_render.digest_slack(alert)
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


def alert_html(alert: Alert) -> str:
    """The email's HTML part: the same title, figures and drafted note as alert_text, escaped."""
    if digest_render.is_digest(alert):
        return digest_render.digest_html(alert)
    from html import escape  # here: the rest of this module needs no HTML

    rows = "".join(
        f'<tr><th align="left">{escape(str(label))}</th><td>{escape(str(value))}</td></tr>'
        for label, value in figure_lines(alert)
    )
    parts = [f"<h2>{escape(alert_title(alert))}</h2>", f"<table>{rows}</table>"]
    note = drafted_note(alert)
    if note:
        body = "<br>".join(escape(line) for line in note[1].splitlines())
        parts.append(
            f"<p><b>Drafted note to {escape(note_recipients(alert))}</b>: <i>{escape(note[0])}</i></p>"
            f"<blockquote>{body}</blockquote>"
        )
    parts.append(f"<p><small>alert <code>{escape(alert.alert_key)}</code></small></p>")
    return f"<!doctype html><html><body>{''.join(parts)}</body></html>"
