"""Sandbox gateway: signature verification and the signed event shape."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from billow.core.clock import FixedClock, use_clock
from billow.payments.errors import WebhookError
from billow.payments.gateways import signing
from billow.payments.gateways.base import EventKind, OutcomeStatus
from billow.payments.gateways.sandbox import webhooks
from billow.payments.gateways.sandbox.adapter import SandboxGateway
from tests.payments.conftest import T0

SECRET = "sbx_secret"


def _event(succeeded: bool = True) -> tuple[dict[str, str], bytes]:
    return webhooks.build_event(
        payment_id=12,
        reference="sbx_12",
        amount_minor=1000,
        currency="USD",
        succeeded=succeeded,
        save_method=True,
        secret=SECRET,
        now=T0,
    )


def _verify(headers: dict[str, str], body: bytes, secret: str = SECRET, now: datetime = T0) -> int:
    return signing.verify(body, headers["Sandbox-Signature"], secret, now=now)


def test_valid_signature_is_accepted() -> None:
    headers, body = _event()
    assert _verify(headers, body) == int(T0.timestamp())


def test_tampered_body_is_refused() -> None:
    headers, body = _event()
    tampered = body.replace(b'"amount_minor": 1000', b'"amount_minor": 100000')
    with pytest.raises(WebhookError) as exc:
        _verify(headers, tampered)
    assert exc.value.code == "webhook_signature_invalid"


def test_wrong_secret_is_refused() -> None:
    headers, body = _event()
    with pytest.raises(WebhookError) as exc:
        _verify(headers, body, secret="other")
    assert exc.value.code == "webhook_signature_invalid"


def test_expired_timestamp_is_refused() -> None:
    headers, body = _event()
    assert _verify(headers, body, now=T0 + timedelta(seconds=300))
    with pytest.raises(WebhookError) as exc:
        _verify(headers, body, now=T0 + timedelta(seconds=301))
    assert exc.value.code == "webhook_timestamp_expired"


def test_missing_header_is_refused() -> None:
    _, body = _event()
    with pytest.raises(WebhookError) as exc:
        signing.verify(body, "", SECRET, now=T0)
    assert exc.value.code == "webhook_signature_missing"


def test_parse_reads_the_event() -> None:
    headers, body = _event()
    with use_clock(FixedClock(T0)):
        data = SandboxGateway(secrets={"webhook_secret": SECRET}).parse_webhook(headers, body)
    assert data.kind == EventKind.PAYMENT
    assert data.payment_id == 12
    assert data.outcome.status == OutcomeStatus.SUCCEEDED
    assert data.outcome.amount_minor == 1000
    assert data.outcome.saved_method is not None
    assert data.outcome.saved_method.label == "Sandbox card •••• 4242"
    assert json.loads(body)["type"] == "payment.succeeded"
