"""Where alerts go: a JSON-lines file (always on) and an optional webhook (JSON or Slack); with
ALERT_ROUTES_FILE, the named destinations of the routes file too (routes.py builds them).

A sink's send() either returns (accepted) or raises SinkError with a short reason that is safe
to store and log: never the URL (Slack webhook URLs embed a token) nor the secret. A routed sink
(RoutedSink) says which alerts it wants; the others are not owed to it.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.ledger import Alert, utc_now
from orchestration.alerts.render import alert_payload, json_body, slack_message
from orchestration.alerts.signing import delivery_headers

MAX_RESPONSE_BYTES = 65536


class SinkError(Exception):
    """The sink did not accept the alert; str() is the reason, safe to store and log."""


class Sink(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


@dataclass
class FileSink:
    """Appends one JSON line per alert (the delivery payload plus sent_at)."""

    path: Path
    name: str = "file"

    def send(self, alert: Alert) -> None:
        record = {**alert_payload(alert), "sent_at": utc_now().isoformat(timespec="seconds") + "Z"}
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write on an O_APPEND descriptor: lines from two processes never interleave.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SinkError(f"cannot append to {self.path.name}: {exc.strerror or exc}") from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not a delivery (urllib would turn the POST into a body-less GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _header_safe(value: str) -> str:
    """Header values must be ASCII: percent-encode anything else (the body has the raw key)."""
    if value.isascii() and value.isprintable():
        return value
    return urllib.parse.quote(value, safe="".join(chr(c) for c in range(33, 127) if c != 37))


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> int:
    """POST body; return the 2xx status or raise SinkError (non-2xx, timeout, network)."""
    request = urllib.request.Request(
        url,
        data=body,
        headers={name: _header_safe(value) for name, value in headers.items()},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(MAX_RESPONSE_BYTES)
            status = response.status
    except urllib.error.HTTPError as exc:
        raise SinkError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise SinkError(f"timed out after {timeout:g}s") from None
        reason = getattr(exc.reason, "strerror", None) or str(exc.reason)
        raise SinkError(f"connection failed: {reason}") from None
    except TimeoutError:
        raise SinkError(f"timed out after {timeout:g}s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise SinkError(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= status < 300:
        raise SinkError(f"HTTP {status}")
    return status


@dataclass
class WebhookSink:
    """One POST per alert: the JSON payload (or a Slack message), keyed and optionally signed."""

    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    format: str = "json"
    timeout_seconds: float = 10.0
    name: str = "webhook"

    def body(self, alert: Alert) -> bytes:
        payload = slack_message(alert) if self.format == "slack" else alert_payload(alert)
        return json_body(payload)

    def send(self, alert: Alert) -> None:
        body = self.body(alert)
        headers = delivery_headers(alert.alert_key, body, secret=self.secret)
        post_json(self.url, body, headers, timeout=self.timeout_seconds)


@dataclass
class RoutedSink:
    """A destination of the routes file: it is owed only the alerts `wants` says (a route
    matches them); delivery and send_everywhere skip the rest."""

    inner: Sink
    wants: Callable[[Alert], bool] = field(repr=False)

    @property
    def name(self) -> str:
        return self.inner.name

    def send(self, alert: Alert) -> None:
        self.inner.send(alert)


def sink_wants(sink: Sink, alert: Alert) -> bool:
    """Whether `alert` is owed to `sink`: always, unless a RoutedSink (possibly inside wrappers
    such as names.NamedSink, which keep theirs as `inner`) says otherwise."""
    while sink is not None:
        if isinstance(sink, RoutedSink):
            return sink.wants(alert)
        sink = getattr(sink, "inner", None)
    return True


def build_sinks(settings: AlertSettings) -> list[Sink]:
    """The file sink always; the webhook when ALERT_WEBHOOK_URL is set. With a routes file, the
    file and the routed destinations (among them the webhook as `webhook`, when routes name it)."""
    webhook = None
    if settings.webhook_url:
        webhook = WebhookSink(
            url=settings.webhook_url,
            secret=settings.webhook_secret,
            format=settings.webhook_format,
            timeout_seconds=settings.timeout_seconds,
        )
    file_sink = FileSink(settings.jsonl_path)
    if settings.routes is not None:
        return [
            file_sink,
            *settings.routes.build_sinks(webhook=webhook, timeout_seconds=settings.timeout_seconds),
        ]
    return [file_sink] if webhook is None else [file_sink, webhook]


def send_everywhere(sinks: list[Sink], alert: Alert) -> dict[str, str | None]:
    """Best effort to every sink that wants the alert (for one-off reports such as a failed
    run): never raises; returns sink name -> None when accepted, else the reason."""
    results: dict[str, str | None] = {}
    for sink in sinks:
        if not sink_wants(sink, alert):
            continue
        try:
            sink.send(alert)
            results[sink.name] = None
        except Exception as exc:  # a sink must never break its caller
            results[sink.name] = str(exc) if isinstance(exc, SinkError) else type(exc).__name__
    return results
