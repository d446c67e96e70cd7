"""The words of the two digests (daily sales, weekly CS): Markdown, plain text, HTML and Slack.

A digest is a row of the ledger (`digest_daily` / `digest_weekly`) whose detail holds its content
as figures read from the marts (orchestration/alerts/digests.py builds it); this module only
words and lays them out, so a digest can be re-rendered from its row at any retry. Every face
shows the same sections in the same order; an empty section says so in one line. No I/O.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

from orchestration.alerts.formatting import iso
from orchestration.alerts.formatting import number as _number
from orchestration.alerts.ledger import Alert
from orchestration.verdict_words import QUOTA_OUTCOME_WORDS, action_cell

DIGEST_DAILY = "digest_daily"
DIGEST_WEEKLY = "digest_weekly"
DIGEST_TYPES = (DIGEST_DAILY, DIGEST_WEEKLY)
# A Slack section's text holds at most 3,000 characters.
SLACK_TEXT_LIMIT = 2900

# marts.onboarding_funnel.furthest_step of a stuck key: where it stopped.
STUCK_STEP_WORDS = {
    "key_issued": "issued, no successful call yet",
    "first_success": "a first success, not yet 100 calls",
    "hundred_calls": "100 calls, no error-free day yet",
}


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]
    empty: str  # the one line shown when there is nothing


def is_digest(alert: Alert) -> bool:
    return alert.alert_type in DIGEST_TYPES


def _signed(value: Any, suffix: str = "") -> str:
    if not isinstance(value, int | float):
        return "n/a"
    return f"{value:+,.1f}{suffix}" if isinstance(value, float) else f"{value:+,}{suffix}"


def _money_delta(value: Any) -> str:
    if not isinstance(value, int | float):
        return ""
    sign = "-" if value < 0 else "+"
    return f" ({sign}${abs(value):,.2f} MRR)"


def _month(value: Any) -> str:
    text = str(value or "")
    months = [dt.date(2000, n, 1).strftime("%B") for n in range(1, 13)]
    try:
        return f"{months[int(text[5:7]) - 1]} {text[:4]}"
    except (ValueError, IndexError):
        return text or "last month"


def digest_title(alert: Alert) -> str:
    d = alert.detail
    if alert.alert_type == DIGEST_DAILY:
        count = len(d.get("accounts") or [])
        crossed = "1 account" if count == 1 else f"{count:,} accounts"
        return f"Daily sales digest, {d.get('period')}: {crossed} crossed a quota threshold"
    return f"Weekly CS digest, {d.get('period')} ({d.get('week_start')} to {d.get('week_end')})"


def _crossing_line(account: dict[str, Any]) -> str:
    thresholds = ", ".join(f"{t}%" for t in account.get("thresholds") or [])
    line = (
        f"{account.get('organization_id')} crossed {thresholds}: now {_number(account.get('pct_of_cap'))}%"
        f" of {_number(account.get('monthly_call_limit'))} calls (plan {account.get('plan_id') or 'unknown'})"
    )
    action = account.get("action")
    if action:
        line += f"; {action_cell(action)}"
    if account.get("next_plan_id"):
        line += f"; next plan {account['next_plan_id']}{_money_delta(account.get('upgrade_mrr_delta'))}"
    return line


def _mover_line(mover: dict[str, Any]) -> str:
    change = mover.get("usage_change_7d_pct")
    pct = f", {_signed(change, '%')}" if change is not None else ", no calls the week before"
    return (
        f"{mover.get('organization_id')}: {_number(mover.get('calls_7d'))} calls "
        f"(7 days before: {_number(mover.get('calls_prior_7d'))}; {_signed(mover.get('calls_change_7d'))}"
        f"{pct}), trend {mover.get('trend')}"
    )


def _alert_line(item: dict[str, Any]) -> str:
    return f"{item.get('title')} (as of {item.get('as_of_date')})"


def _incident_line(incident: dict[str, Any]) -> str:
    hit = ", ".join(
        f"{c.get('organization_id')} ({_number(c.get('calls'))} calls, {_number(c.get('server_errors'))} 5xx,"
        f" {_number(c.get('slow_calls'))} slow)"
        for c in incident.get("customers") or []
    )
    return (
        f"{incident.get('usage_date')} {incident.get('method')} {incident.get('route')}:"
        f" {incident.get('kind')}, {incident.get('scope')}; p95 {_number(incident.get('latency_p95_ms'))} ms"
        f" (baseline {_number(incident.get('baseline_latency_p95_ms'))} ms);"
        f" {_number(incident.get('affected_customers'))} customer(s) hit" + (f": {hit}" if hit else "")
    )


def _stuck_line(key: dict[str, Any]) -> str:
    step = key.get("furthest_step")
    return (
        f"{key.get('api_key_id')} ({key.get('organization_id')}, plan {key.get('plan_id') or 'unknown'}):"
        f" {STUCK_STEP_WORDS.get(step, step)}, for {_number(key.get('days_at_step'))} days"
        f" (issued {str(key.get('key_issued_at'))[:10]})"
    )


def outcomes_line(outcomes: dict[str, Any]) -> str | None:
    """ "September 2026: 5 accounts reached 80%: 2 upgraded, 1 absorbed the 429s"; None when none."""
    accounts = outcomes.get("accounts") or 0
    if not accounts:
        return None
    parts = ", ".join(
        f"{_number(o.get('accounts'))} {QUOTA_OUTCOME_WORDS.get(o.get('outcome'), o.get('outcome'))}"
        for o in outcomes.get("outcomes") or []
    )
    reached = "1 account" if accounts == 1 else f"{_number(accounts)} accounts"
    so_far = "" if outcomes.get("is_next_month_complete") else " (the month after, so far)"
    return f"{_month(outcomes.get('billing_month'))}: {reached} reached 80%: {parts}{so_far}"


def digest_sections(alert: Alert) -> list[Section]:
    d = alert.detail
    if alert.alert_type == DIGEST_DAILY:
        since = f"since the last digest, {str(d['since'])[:16]} UTC" if d.get("since") else "in the last day"
        return [
            Section(
                f"Accounts that crossed a quota threshold ({since})",
                [_crossing_line(a) for a in d.get("accounts") or []],
                "No account crossed a quota threshold.",
            )
        ]
    stuck = [_stuck_line(k) for k in d.get("stuck_keys") or []]
    if d.get("stuck_keys_more"):
        stuck.append(f"... and more (the {len(stuck)} stuck longest are shown)")
    outcomes = d.get("quota_outcomes") or {}
    line = outcomes_line(outcomes)
    return [
        Section(
            "Movers up (7 days against the 7 days before)",
            [_mover_line(m) for m in d.get("movers_up") or []],
            "No organization's calls rose.",
        ),
        Section(
            "Movers down (7 days against the 7 days before)",
            [_mover_line(m) for m in d.get("movers_down") or []],
            "No organization's calls fell.",
        ),
        Section(
            "New churn risks", [_alert_line(a) for a in d.get("churn_risks") or []], "No new churn risk."
        ),
        Section(
            "New failing integrations",
            [_alert_line(a) for a in d.get("failing_integrations") or []],
            "No new failing integration.",
        ),
        Section(
            "Incidents and the customers they hit",
            [_incident_line(i) for i in d.get("incidents") or []],
            "No endpoint incident.",
        ),
        Section("Onboarding keys stuck at a step", stuck, "No onboarding key is stuck."),
        Section(
            "Quota outcomes",
            [line] if line else [],
            f"{_month(outcomes.get('billing_month'))}: no account reached 80% of its quota.",
        ),
    ]


def _footer(alert: Alert) -> str:
    return f"digest {alert.alert_key}, marts as of {alert.detail.get('marts_as_of_date')}"


def digest_markdown(alert: Alert) -> str:
    out = [f"# {digest_title(alert)}", ""]
    for section in digest_sections(alert):
        out += [f"## {section.title}", ""]
        out += [f"- {line}" for line in section.lines] or [section.empty]
        out.append("")
    out.append(f"_{_footer(alert)}_")
    return "\n".join(out) + "\n"


def digest_text(alert: Alert) -> str:
    out = [digest_title(alert), ""]
    for section in digest_sections(alert):
        out.append(section.title)
        out += [f"  - {line}" for line in section.lines] or [f"  {section.empty}"]
        out.append("")
    out.append(_footer(alert))
    return "\n".join(out)


def digest_html(alert: Alert) -> str:
    esc = html.escape
    out = [f"<h2>{esc(digest_title(alert))}</h2>"]
    for section in digest_sections(alert):
        out.append(f"<h3>{esc(section.title)}</h3>")
        if section.lines:
            out.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in section.lines) + "</ul>")
        else:
            out.append(f"<p>{esc(section.empty)}</p>")
    out.append(f"<p><small>{esc(_footer(alert))}</small></p>")
    return "\n".join(out)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_section_text(section: Section) -> str:
    text = f"*{_slack_escape(section.title)}*\n"
    lines = [f"• {_slack_escape(line)}" for line in section.lines] or [f"_{_slack_escape(section.empty)}_"]
    for n, line in enumerate(lines):
        if len(text) + len(line) > SLACK_TEXT_LIMIT:
            return text + f"… and {len(lines) - n} more"
        text += line + "\n"
    return text.rstrip("\n")


def digest_slack(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: a header, one section per part of the digest, the key."""
    title = digest_title(alert)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    for section in digest_sections(alert):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_section_text(section)}})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(_footer(alert))}]}
    )
    return {"text": title, "blocks": blocks}


def digest_payload(alert: Alert) -> dict[str, Any]:
    """The JSON object a webhook or the file sink gets: the ledger fields, title, text, Markdown."""
    return {
        "alert_key": alert.alert_key,
        "alert_type": alert.alert_type,
        "organization_id": None,
        "threshold": None,
        "as_of_date": iso(alert.as_of_date),
        "created_at": iso(alert.created_at),
        "title": digest_title(alert),
        "text": digest_text(alert),
        "markdown": digest_markdown(alert),
        "detail": alert.detail,
    }
