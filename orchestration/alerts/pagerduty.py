"""The PagerDuty destination: one Events API v2 `trigger` per alert.

The event's dedup_key is the alert key, so a re-sent alert updates the incident it opened rather
than opening a second one. The routing key is a secret (it lets anyone open incidents): it travels
in the body only, never in an error or a log line. The URL is not secret and may be overridden
(a regional endpoint, or a test receiver on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from orchestration.alerts.config import DEFAULT_TIMEOUT_SECONDS
from orchestration.alerts.formatting import iso
from orchestration.alerts.ledger import Alert
from orchestration.alerts.render import alert_text, alert_title, json_body
from orchestration.alerts.signing import IDEMPOTENCY_HEADER, KEY_HEADER
from orchestration.alerts.sinks import post_json

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")
# PagerDuty's own vocabulary: how loud the page is, by alert type (a destination may override).
DEFAULT_SEVERITY = {
    "endpoint_degradation": "critical",
    "refresh_failed": "error",
    "integration_failing": "error",
    "key_sharing_suspect": "error",
}
SOURCE = "api-usage-warehouse"
MAX_SUMMARY_CHARS = 1024  # the Events API's limit
MAX_DEDUP_KEY_CHARS = 255


def dedup_key(alert_key: str) -> str:
    """The alert key; a key past PagerDuty's limit keeps its start and a digest of the whole."""
    if len(alert_key) <= MAX_DEDUP_KEY_CHARS:
        return alert_key
    return alert_key[:200] + ":" + hashlib.sha256(alert_key.encode()).hexdigest()[:32]


@dataclass
class PagerDutySink:
    name: str
    routing_key: str = field(repr=False)
    url: str = EVENTS_URL
    severity: str | None = None  # None: DEFAULT_SEVERITY by alert type, else warning
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def event(self, alert: Alert) -> dict[str, Any]:
        return {
            "routing_key": self.routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key(alert.alert_key),
            "payload": {
                "summary": alert_title(alert)[:MAX_SUMMARY_CHARS],
                "source": alert.organization_id or SOURCE,
                "severity": self.severity or DEFAULT_SEVERITY.get(alert.alert_type, "warning"),
                "component": alert.alert_type,
                "custom_details": {
                    "alert_key": alert.alert_key,
                    "as_of_date": iso(alert.as_of_date),
                    "text": alert_text(alert),
                    "detail": alert.detail,
                },
            },
        }

    def send(self, alert: Alert) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "api-usage-warehouse-alerts/1",
            KEY_HEADER: alert.alert_key,
            IDEMPOTENCY_HEADER: alert.alert_key,
        }
        post_json(self.url, json_body(self.event(alert)), headers, timeout=self.timeout_seconds)
