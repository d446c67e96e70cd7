"""Alert delivery settings, read from the environment when asked (never at import time).

docs/contract.md section 3 names ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET; the rest tune delivery.
The secret is never part of the dataclass repr, so it cannot reach a log line by accident.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import Settings, SettingsError

WEBHOOK_FORMATS = ("json", "slack")

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_SECONDS = 60.0
DEFAULT_BACKOFF_MAX_SECONDS = 3600.0
ALERTS_FILE_NAME = "alerts.jsonl"


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


def _number(name: str, default: float, *, minimum: float, integer: bool = False) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError as exc:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{name} must be {kind}, got {text!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {text!r}")
    return value


def load_alert_settings(settings: Settings) -> AlertSettings:
    """Sinks and retry policy from the environment; the JSON-lines file defaults to
    <warehouse dir>/alerts.jsonl (ALERT_FILE_PATH overrides it)."""
    file_text = os.environ.get("ALERT_FILE_PATH", "").strip()
    jsonl_path = Path(file_text) if file_text else settings.data_dir / ALERTS_FILE_NAME
    if not jsonl_path.is_absolute():
        jsonl_path = Path.cwd() / jsonl_path
    url = os.environ.get("ALERT_WEBHOOK_URL", "").strip() or None
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise SettingsError("ALERT_WEBHOOK_URL must be an http:// or https:// URL")
    webhook_format = os.environ.get("ALERT_WEBHOOK_FORMAT", "").strip().lower() or "json"
    if webhook_format not in WEBHOOK_FORMATS:
        raise SettingsError(
            f"ALERT_WEBHOOK_FORMAT must be one of {', '.join(WEBHOOK_FORMATS)}, got {webhook_format!r}"
        )
    backoff = _number("ALERT_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS, minimum=0)
    return AlertSettings(
        jsonl_path=jsonl_path,
        webhook_url=url,
        webhook_secret=os.environ.get("ALERT_WEBHOOK_SECRET") or None,
        webhook_format=webhook_format,
        timeout_seconds=_number("ALERT_WEBHOOK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS, minimum=0.001),
        max_attempts=int(_number("ALERT_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, minimum=1, integer=True)),
        backoff_seconds=backoff,
        backoff_max_seconds=max(
            backoff,
            _number("ALERT_BACKOFF_MAX_SECONDS", DEFAULT_BACKOFF_MAX_SECONDS, minimum=0),
        ),
    )
