"""The webhook sink against a real HTTP server on 127.0.0.1 (http.server in a thread).

`Receiver` is shared by the other test_alerts_* modules: it records every request and answers
200, a chosen error status, or nothing in time (to make the client time out).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestration.alerts.ledger import Alert
from orchestration.alerts.signing import (
    IDEMPOTENCY_HEADER,
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from orchestration.alerts.sinks import SinkError, WebhookSink, post_json


class Receiver:
    """A webhook receiver: mode "ok" (200), "error" (status), "slow" (answers after delay)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.status = 500
        self.delay = 2.0
        self.attempts: list[dict] = []  # every request received
        self.accepted: list[dict] = []  # requests answered 2xx
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                request = {
                    "path": self.path,
                    "headers": {k: v for k, v in self.headers.items()},
                    "body": self.rfile.read(length),
                }
                with receiver._lock:
                    receiver.attempts.append(request)
                    mode = receiver.mode
                if mode == "slow":
                    time.sleep(receiver.delay)
                    status = 504
                elif mode == "error":
                    status = receiver.status
                else:
                    status = 200
                    with receiver._lock:
                        receiver.accepted.append(request)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok" if status == 200 else b"nope")
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/alerts"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()

    def accepted_keys(self) -> list[str]:
        with self._lock:
            return [r["headers"][KEY_HEADER] for r in self.accepted]

    def accepted_bodies(self) -> list[dict]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.accepted]

    def clear(self) -> None:
        with self._lock:
            self.attempts.clear()
            self.accepted.clear()


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def sample_alert(key: str = "quota_threshold:org_a:2026-03:80") -> Alert:
    return Alert(
        alert_key=key,
        alert_type="quota_threshold",
        organization_id="org_a",
        threshold=80,
        detail={
            "headline": "org_a is at 82.0% of its monthly quota",
            "monthly_call_limit": 1000,
            "used_mtd": 820,
            "pct_of_cap": 82.0,
            "projected_eom": 1271,
            "days_to_cap": 4,
            "plan_id": "pro",
            # marts.quota_outlook's verdict, which the alert carries (int_alerts_quota_threshold).
            "billing_month": "2026-03-01",
            "outlook": "reaches_cap",
            "action": "UPSELL NOW",
            "cap_date": "2026-03-24",
            "resets_on": "2026-04-01",
            "note_subject": "Heads up: you are at 82.0% of your monthly API quota",
            "note_body": "Hi org_a team, you are at 82.0% ... you reach it in 4 days ...",
        },
        as_of_date=dt.date(2026, 3, 20),
        created_at=dt.datetime(2026, 3, 21, 6, 0, 0),
    )


def test_webhook_posts_contract_fields_with_key_headers_and_a_verifiable_signature(receiver):
    sink = WebhookSink(url=receiver.url, secret="s3cret", timeout_seconds=5)
    sink.send(sample_alert())

    [request] = receiver.accepted
    body = json.loads(request["body"])
    assert {"alert_key", "alert_type", "organization_id", "threshold", "detail"} <= body.keys()
    assert body["alert_key"] == "quota_threshold:org_a:2026-03:80"
    assert body["threshold"] == 80
    assert body["detail"]["days_to_cap"] == 4
    headers = request["headers"]
    assert headers[KEY_HEADER] == headers[IDEMPOTENCY_HEADER] == body["alert_key"]
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    timestamp = headers[TIMESTAMP_HEADER]
    assert abs(int(timestamp) - time.time()) < 60
    # What a receiver does: recompute over the raw body it got.
    assert verify("s3cret", timestamp, request["body"], headers[SIGNATURE_HEADER])
    assert not verify("another", timestamp, request["body"], headers[SIGNATURE_HEADER])
    assert not verify("s3cret", timestamp, request["body"] + b" ", headers[SIGNATURE_HEADER])


def test_without_a_secret_there_is_no_signature_header(receiver):
    WebhookSink(url=receiver.url, timeout_seconds=5).send(sample_alert())
    [request] = receiver.accepted
    assert SIGNATURE_HEADER not in request["headers"]
    assert request["headers"][KEY_HEADER] == "quota_threshold:org_a:2026-03:80"


def test_slack_format_is_a_readable_message(receiver):
    WebhookSink(url=receiver.url, format="slack", timeout_seconds=5).send(sample_alert())
    [body] = receiver.accepted_bodies()
    assert "org_a: UPSELL NOW · cap in 4 days (Mar 24) (82.0% of its monthly quota" in body["text"]
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert "Outlook:* cap in 4 days (Mar 24)" in text
    assert "Action:* UPSELL NOW: AE outreach this week" in text
    assert "Drafted note" in text
    assert "quota_threshold:org_a:2026-03:80" in text


def test_errors_are_short_reasons_without_the_url(receiver):
    receiver.mode, receiver.status = "error", 500
    with pytest.raises(SinkError) as error:
        post_json(receiver.url + "?token=abc", b"{}", {}, timeout=5)
    assert str(error.value) == "HTTP 500 Internal Server Error"
    assert "token" not in str(error.value)

    receiver.mode, receiver.delay = "slow", 1.5
    started = time.monotonic()
    with pytest.raises(SinkError, match="timed out after 0.3s"):
        post_json(receiver.url, b"{}", {}, timeout=0.3)
    assert time.monotonic() - started < 1.4

    receiver.stop()
    with pytest.raises(SinkError, match="connection failed"):
        post_json(receiver.url, b"{}", {}, timeout=2)


def test_a_redirect_is_not_a_delivery():
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(SinkError, match="HTTP 302"):
            post_json(f"http://127.0.0.1:{server.server_address[1]}/", b"{}", {}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
