"""The email destination against a real SMTP server (aiosmtpd) that the test starts on 127.0.0.1:
the message that arrives, its dedupe headers, once per alert, and the short errors (never the
password)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import html
import socket
import textwrap
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.email import message_id
from orchestration.alerts.ledger import destination_states, get_alert, record_alert
from orchestration.alerts.render import alert_title, drafted_note
from orchestration.alerts.sinks import build_sinks
from orchestration.settings import with_alert_routes
from tests.unit.test_alert_routes import T0, deliver
from tests.unit.test_alerts_http import sample_alert

KEY = "quota_threshold:org_a:2026-03:100"
PASSWORD = "smtp-password-never-shown"


class Mailbox:
    """aiosmtpd handler: keeps every message; refuses the addresses in `refuse` with a 550."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    right = auth_data.login == b"alerts" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=right, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    # Plain SMTP with AUTH allowed without TLS: the test's own server on the loopback only.
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=free_port(), auth_require_tls=False, authenticator=check_password
    )
    controller.start()
    yield mailbox, controller.port
    controller.stop()


def email_settings(monkeypatch, tmp_path: Path, port: int, **env: str) -> AlertSettings:
    routes = tmp_path / "alert_routes.yaml"
    routes.write_text(
        textwrap.dedent(
            """
            destinations:
              sales-email:
                type: email
                to: [sales@example.com, "Sales Leads <leads@example.com>"]
            routes:
              - alert_types: [quota_threshold]
                thresholds: [100]
                to: sales-email
            """
        ).lstrip()
    )
    settings = {
        "ALERT_ROUTES_FILE": str(routes),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_TLS": "none",
        "SMTP_USER": "alerts",
        "SMTP_PASSWORD": PASSWORD,
        "ALERT_EMAIL_FROM": "API alerts <alerts@usage.example.com>",
        **env,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return with_alert_routes(AlertSettings(jsonl_path=tmp_path / "alerts.jsonl", timeout_seconds=5))


def at_cap_alert():
    alert = sample_alert(KEY)
    detail = {**alert.detail, "used_mtd": 1000, "pct_of_cap": 100.0, "action": "CRITICAL"}
    for drafted_words in ("headline", "note_subject", "note_body"):  # written from the figures
        detail.pop(drafted_words)
    return dataclasses.replace(alert, threshold=100, detail=detail)


def test_the_email_arrives_once_with_the_drafted_note(con, tmp_path, smtp_server, monkeypatch):
    mailbox, port = smtp_server
    alert_settings = email_settings(monkeypatch, tmp_path, port)
    alert = at_cap_alert()
    record_alert(con, alert, now=T0)
    record_alert(con, sample_alert("quota_threshold:org_a:2026-03:80"), now=T0)  # no route: file only

    assert deliver(con, alert_settings).delivered == [KEY, "quota_threshold:org_a:2026-03:80"]

    assert len(mailbox.messages) == 1
    recipients, message = mailbox.messages[0]
    assert recipients == ["sales@example.com", "leads@example.com"]
    assert message["Subject"] == alert_title(alert)
    assert message["From"] == "API alerts <alerts@usage.example.com>"
    assert message["X-Alert-Key"] == KEY
    assert message["Message-ID"] == message_id(KEY, "alerts@usage.example.com")
    assert message["Message-ID"].endswith("@usage.example.com>")
    subject, body = drafted_note(alert)
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert f"-- {subject}" in text and body in text
    assert "Used this month: 1,000 calls (100.0% of cap)" in text
    page = message.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")
    assert f"<h2>{html.escape(alert_title(alert))}</h2>" in page
    assert html.escape(body.splitlines()[0]) in page
    assert get_alert(con, KEY).delivered_sinks == ("file", "sales-email")

    # Delivered once: the next run has nothing to send.
    assert deliver(con, alert_settings, now=T0 + dt.timedelta(hours=1)).due == 0
    assert len(mailbox.messages) == 1


def test_a_refused_mailbox_is_a_short_reason_and_is_retried(con, tmp_path, smtp_server, monkeypatch):
    mailbox, port = smtp_server
    alert_settings = email_settings(monkeypatch, tmp_path, port)
    record_alert(con, at_cap_alert(), now=T0)
    mailbox.refuse = {"leads@example.com"}

    report = deliver(con, alert_settings)

    assert report.retrying == {KEY: "sales-email: SMTP 550 mailbox unavailable"}
    # The other recipient got it; the attempt failed all the same, so the retry reaches both
    # (at least once: the same Message-ID lets a mail client drop the copy).
    assert [recipients for recipients, _ in mailbox.messages] == [["sales@example.com"]]
    states = {state.destination: state for state in destination_states(con)[KEY]}
    assert (states["sales-email"].attempts, states["sales-email"].last_error) == (
        1,
        "SMTP 550 mailbox unavailable",
    )
    assert states["file"].delivered_at is not None

    mailbox.refuse = set()
    assert deliver(con, alert_settings, now=T0 + dt.timedelta(minutes=2)).delivered == [KEY]
    assert mailbox.messages[1][0] == ["sales@example.com", "leads@example.com"]
    assert mailbox.messages[0][1]["Message-ID"] == mailbox.messages[1][1]["Message-ID"]
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1  # not re-sent to the file


def test_a_wrong_password_is_never_stored_or_shown(con, tmp_path, smtp_server, monkeypatch):
    mailbox, port = smtp_server
    alert_settings = email_settings(monkeypatch, tmp_path, port, SMTP_PASSWORD="wrong-password-xyz")
    record_alert(con, at_cap_alert(), now=T0)

    report = deliver(con, alert_settings)

    error = report.retrying[KEY]
    assert error.startswith("sales-email: SMTP 535 ")
    assert mailbox.messages == []
    stored = con.execute(
        "select last_error from marts.alerts union all select last_error from marts.alert_deliveries"
    )
    for (text,) in stored.fetchall():
        assert "wrong-password-xyz" not in (text or "")
    assert "wrong-password-xyz" not in repr(alert_settings) + repr(build_sinks(alert_settings))


def test_connection_refused_and_starttls_not_offered(con, tmp_path, smtp_server, monkeypatch):
    mailbox, port = smtp_server
    record_alert(con, at_cap_alert(), now=T0)

    closed = email_settings(monkeypatch, tmp_path, free_port())
    assert deliver(con, closed).retrying == {KEY: "sales-email: connection refused"}

    # SMTP_TLS=starttls (the default) against a server without STARTTLS: an error, never the
    # password in clear.
    plain = email_settings(monkeypatch, tmp_path, port, SMTP_TLS="starttls")
    later = T0 + dt.timedelta(minutes=5)
    assert deliver(con, plain, now=later).retrying == {
        KEY: "sales-email: the SMTP server does not offer STARTTLS (SMTP_TLS)"
    }
    assert mailbox.messages == []


def test_bad_smtp_settings_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(Exception) as raised:
        email_settings(monkeypatch, tmp_path, 25, SMTP_TLS="tls")
    assert str(raised.value) == (
        f"ALERT_ROUTES_FILE {tmp_path / 'alert_routes.yaml'} line 2: destination 'sales-email' sends email, "
        "but SMTP_TLS must be one of starttls, ssl, none, got 'tls'"
    )
