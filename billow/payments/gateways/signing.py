"""Timestamped HMAC-SHA256 signatures in the Stripe scheme, shared by stripe and sandbox.

Header ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]``; the signed payload is ``"{t}.{body}"``;
any ``v1`` matching (constant-time) is accepted when ``|now - t| <= tolerance``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from billow.core import clock
from billow.payments.errors import WebhookError

DEFAULT_TOLERANCE = 300


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` with ``secret``."""
    payload = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},v1={sign(body, secret, timestamp)}"


def parse_header(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(item)
            except ValueError:
                timestamp = None
        elif key == "v1":
            signatures.append(item)
    if timestamp is None or not signatures:
        raise WebhookError("no timestamp or v1 signature", code="webhook_signature_missing")
    return timestamp, signatures


def verify(
    body: bytes,
    header_value: str,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> int:
    """Check the header against ``body``; returns the timestamp or raises ``WebhookError``
    (``webhook_signature_missing`` / ``webhook_signature_invalid`` / ``webhook_timestamp_expired``).
    """
    if not secret:
        raise WebhookError("no webhook secret is configured", code="gateway_not_configured")
    timestamp, signatures = parse_header(header_value)
    expected = sign(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookError("the signature does not match", code="webhook_signature_invalid")
    age = clock.now(now).timestamp() - timestamp
    if abs(age) > tolerance:
        raise WebhookError(
            "the signature timestamp is outside the tolerance", code="webhook_timestamp_expired"
        )
    return timestamp
