"""Webhook signatures: HMAC-SHA256 over f"{timestamp}.{body}" (README.md has the receiver side).

The timestamp is part of what is signed, so a captured delivery cannot be replayed later with a
fresh timestamp; the alert key travels in its own headers so a receiver can dedupe re-sends.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Alert-Timestamp"
KEY_HEADER = "X-Alert-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: float | None = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when `signature` is ours for this timestamp and body, and the timestamp is recent
    (within tolerance_seconds of now; None disables the age check)."""
    if not hmac.compare_digest(sign(secret, timestamp, body), signature or ""):
        return False
    if tolerance_seconds is None:
        return True
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs((time.time() if now is None else now) - sent) <= tolerance_seconds


def delivery_headers(
    alert_key: str, body: bytes, *, secret: str | None, timestamp: int | None = None
) -> dict[str, str]:
    """Headers of one delivery: the stable key twice (X-Alert-Key, Idempotency-Key), the send
    time, and with a secret the signature."""
    sent = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "api-usage-warehouse-alerts/1",
        KEY_HEADER: alert_key,
        IDEMPOTENCY_HEADER: alert_key,
        TIMESTAMP_HEADER: sent,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, sent, body)
    return headers
