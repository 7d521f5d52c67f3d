"""Deeply nested JSON on a webhook is refused with 400 and the API's error shape before any
parser runs (the probe: 500 from a RecursionError, anonymously, with a YooKassa method active)."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from billow.core.jsonlimits import MAX_JSON_DEPTH
from billow.payments.errors import WebhookError
from billow.payments.gateways.base import load_json
from billow.payments.models import PaymentMethod
from tests.payments.conftest import db_state

DEEP = b"[" * 50_000 + b"]" * 50_000


def test_a_deep_webhook_body_is_malformed_outside_a_request_too() -> None:
    with pytest.raises(WebhookError) as refused:
        load_json(DEEP)
    assert refused.value.code == "webhook_malformed"


@pytest.mark.django_db
def test_an_anonymous_deep_webhook_gets_400_and_writes_nothing(
    yookassa_method: PaymentMethod,
) -> None:
    # given an active YooKassa method / when an anonymous POST sends 50,000 nested arrays
    before = db_state()
    r = HttpClient().post("/pay/webhook/yookassa/", DEEP, content_type="application/json")
    # then 400 in the API's error shape, nothing written
    assert r.status_code == 400
    assert r.json() == {
        "code": "json_too_deep",
        "message": "The JSON body is nested too deeply.",
        "details": {"max_depth": MAX_JSON_DEPTH},
    }
    assert db_state() == before


@pytest.mark.django_db
def test_a_webhook_sent_as_text_is_checked_as_json(yookassa_method: PaymentMethod) -> None:
    r = HttpClient().post("/pay/webhook/yookassa/", DEEP, content_type="text/plain")
    assert (r.status_code, r.json()["code"]) == (400, "json_too_deep")
