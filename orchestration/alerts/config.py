"""Alert delivery settings: the sinks and the retry policy (orchestration/settings.py reads them
from the environment, with the other settings).

docs/contract.md section 3 names ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET; the rest tune delivery.
The secret is never part of the dataclass repr, so it cannot reach a log line by accident.
`routes` is the parsed ALERT_ROUTES_FILE (orchestration/alerts/routes.py), read when delivery
starts: None sends every alert to the file and the webhook, as without a routes file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.alerts.routes import AlertRoutes

WEBHOOK_FORMATS = ("json", "slack")

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_SECONDS = 60.0
DEFAULT_BACKOFF_MAX_SECONDS = 3600.0
ALERTS_FILE_NAME = "alerts.jsonl"
# The rule types of marts.alert_candidates (one dbt model each under models/alerts/).
RULE_ALERT_TYPES = (
    "quota_threshold",
    "churn_risk",
    "usage_spike",
    "key_sharing_suspect",
    "integration_failing",
    "endpoint_degradation",
)


@dataclass(frozen=True)
class AlertSettings:
    jsonl_path: Path
    webhook_url: str | None = field(default=None, repr=False)  # Slack URLs embed a token
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_format: str = "json"
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS
    backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS
    routes: AlertRoutes | None = field(default=None, repr=False)  # holds the destinations' secrets
