"""Signatures a receiver can verify: HMAC-SHA256 over f"{timestamp}.{body}"."""

from __future__ import annotations

import hashlib
import hmac

from orchestration.alerts.signing import (
    IDEMPOTENCY_HEADER,
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    delivery_headers,
    sign,
    verify,
)

BODY = b'{"alert_key":"churn_risk:org_a:2026-03-18"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"secret", b"1774000000." + BODY, hashlib.sha256).hexdigest()
    assert sign("secret", "1774000000", BODY) == f"sha256={expected}"


def test_verifies_with_the_secret_and_fails_with_another():
    signature = sign("secret", "1774000000", BODY)
    assert verify("secret", "1774000000", BODY, signature, now=1774000010)
    assert not verify("other", "1774000000", BODY, signature, now=1774000010)


def test_tampered_body_timestamp_or_old_delivery_fails():
    signature = sign("secret", "1774000000", BODY)
    assert not verify("secret", "1774000000", BODY + b" ", signature, now=1774000000)
    assert not verify("secret", "1774000001", BODY, signature, now=1774000000)
    assert not verify("secret", "1774000000", BODY, "", now=1774000000)
    # a replay an hour later is refused unless the receiver disables the age check
    assert not verify("secret", "1774000000", BODY, signature, now=1774003600)
    assert verify("secret", "1774000000", BODY, signature, tolerance_seconds=None)


def test_headers_carry_the_stable_key_and_time_and_sign_only_with_a_secret():
    headers = delivery_headers("churn_risk:org_a:2026-03-18", BODY, secret="s", timestamp=1774000000)
    assert headers[KEY_HEADER] == headers[IDEMPOTENCY_HEADER] == "churn_risk:org_a:2026-03-18"
    assert headers[TIMESTAMP_HEADER] == "1774000000"
    assert verify("s", "1774000000", BODY, headers[SIGNATURE_HEADER], tolerance_seconds=None)
    unsigned = delivery_headers("k", BODY, secret=None, timestamp=1774000000)
    assert SIGNATURE_HEADER not in unsigned
