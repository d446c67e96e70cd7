"""The email destination: one message per alert through SMTP (smtplib), plain text plus HTML.

The SMTP settings come from the environment (SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USER,
SMTP_PASSWORD, ALERT_EMAIL_FROM; orchestration/settings.py hands them over as a mapping). The
password is never in a repr, an error or a log line: errors are short reasons such as
`SMTP 550 mailbox unavailable` or `connection refused`, which the delivery prefixes with the
destination's name. The Message-ID is derived from the alert key, and X-Alert-Key carries the key,
so a receiver can drop a re-sent alert (delivery is at least once).
"""

from __future__ import annotations

import email.utils
import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

from orchestration.alerts.config import DEFAULT_TIMEOUT_SECONDS
from orchestration.alerts.ledger import Alert
from orchestration.alerts.render import alert_html, alert_text, alert_title
from orchestration.alerts.signing import KEY_HEADER
from orchestration.alerts.sinks import SinkError

SMTP_TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_SMTP_PORT = 587
MAX_REASON_CHARS = 120


class SmtpSettingsError(ValueError):
    """An SMTP_* setting is unusable; str() names it and why (never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str  # ALERT_EMAIL_FROM
    port: int = DEFAULT_SMTP_PORT
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


def smtp_settings_from(environ: Mapping[str, str], *, timeout_seconds: float) -> SmtpSettings:
    """The SMTP settings; raises SmtpSettingsError naming what is missing or wrong."""
    host = environ.get("SMTP_HOST", "").strip()
    sender = environ.get("ALERT_EMAIL_FROM", "").strip()
    missing = [name for name, value in (("SMTP_HOST", host), ("ALERT_EMAIL_FROM", sender)) if not value]
    if missing:
        raise SmtpSettingsError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set")
    if not is_address(sender):
        raise SmtpSettingsError(f"ALERT_EMAIL_FROM is not an email address: {sender!r}")
    port_text = environ.get("SMTP_PORT", "").strip() or str(DEFAULT_SMTP_PORT)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SmtpSettingsError(f"SMTP_PORT must be a port number (1 to 65535), got {port_text!r}")
    tls = environ.get("SMTP_TLS", "").strip().lower() or "starttls"
    if tls not in SMTP_TLS_MODES:
        raise SmtpSettingsError(f"SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)}, got {tls!r}")
    return SmtpSettings(
        host=host,
        sender=sender,
        port=int(port_text),
        tls=tls,
        user=environ.get("SMTP_USER", "").strip() or None,
        password=environ.get("SMTP_PASSWORD") or None,
        timeout_seconds=timeout_seconds,
    )


def is_address(text: str) -> bool:
    """A plain addr-spec (name@domain), or a display name with one: "Sales <sales@example.com>"."""
    _, address = email.utils.parseaddr(text)
    local, _, domain = address.rpartition("@")
    return bool(local and domain and " " not in address)


def message_id(alert_key: str, sender: str) -> str:
    """The same Message-ID for every send of one alert (a receiver's dedupe key)."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "api-usage-warehouse.invalid"
    digest = hashlib.sha256(alert_key.encode()).hexdigest()[:32]
    return f"<alert-{digest}@{domain}>"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _reason(text: object) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return _one_line(str(text))[:MAX_REASON_CHARS]


@dataclass
class EmailSink:
    """One email per alert to `to`: subject the alert's title, text and HTML bodies."""

    name: str
    to: tuple[str, ...]
    smtp: SmtpSettings = field(repr=False)

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = _one_line(alert_title(alert))
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(self.to)
        message["Date"] = email.utils.formatdate(usegmt=True)
        message["Message-ID"] = message_id(alert.alert_key, self.smtp.sender)
        message[KEY_HEADER] = alert.alert_key
        message["X-Alert-Type"] = alert.alert_type
        message.set_content(alert_text(alert))
        message.add_alternative(alert_html(alert), subtype="html")
        return message

    def send(self, alert: Alert) -> None:
        message = self.message(alert)
        try:
            with _connect(self.smtp) as client:
                if self.smtp.user:
                    client.login(self.smtp.user, self.smtp.password or "")
                refused = client.send_message(message, to_addrs=list(self.to))
            if refused:  # the others got it; the retry sends to all again, with the same Message-ID
                raise smtplib.SMTPRecipientsRefused(refused)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise SinkError(f"SMTP {code} {_reason(text)}") from None
        except smtplib.SMTPResponseException as exc:
            raise SinkError(f"SMTP {exc.smtp_code} {_reason(exc.smtp_error)}") from None
        except smtplib.SMTPServerDisconnected:
            raise SinkError("the SMTP server closed the connection") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SinkError(_reason(exc)) from None
        except ConnectionRefusedError:
            raise SinkError("connection refused") from None
        except TimeoutError:
            raise SinkError(f"timed out after {self.smtp.timeout_seconds:g}s") from None
        except ssl.SSLError as exc:
            raise SinkError(f"TLS failed: {_reason(exc.reason or exc)}") from None
        except OSError as exc:
            raise SinkError(f"connection failed: {_reason(exc.strerror or exc)}") from None


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    """An SMTP session, encrypted as SMTP_TLS says; STARTTLS that the server does not offer is an
    error, never a silent fall back to plain text (the password would travel in clear)."""
    if smtp.tls == "ssl":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    if smtp.tls == "starttls":
        try:
            client.ehlo()
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("the SMTP server does not offer STARTTLS (SMTP_TLS)")
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        except BaseException:
            client.close()
            raise
    return client
