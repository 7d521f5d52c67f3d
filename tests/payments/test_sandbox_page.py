"""The sandbox hosted page with Django's test client (urls mounted by a test-only urlconf)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient

from billow.accounts.models import Client
from billow.core.money import Money
from billow.ledger.models import LedgerTransaction
from billow.payments import actions
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod, WebhookEvent
from billow.payments.states import PaymentStatus
from tests.payments.conftest import balance

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.payments.urls")]


def _started(client: Client, method: PaymentMethod, **kw: Any) -> Payment:
    payment = actions.create_payment(client=client, amount=Money(1999, "USD"), method=method, **kw)
    return actions.start_payment(payment=payment)


def test_page_shows_the_amount_and_buttons(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    response = HttpClient().get(payment.redirect_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span id="total">19.99 USD</span>' in html
    for choice in ("succeed", "fail", "pending"):
        assert f'value="{choice}"' in html


def test_succeed_pays_through_a_signed_webhook(
    client_account: Client, sandbox: PaymentMethod
) -> None:
    payment = _started(client_account, sandbox, save_method=True)
    http = HttpClient(enforce_csrf_checks=False)
    response = http.post(payment.redirect_url, {"choice": "succeed"})
    assert response.status_code == 302
    assert response["Location"] == f"{payment.redirect_url}done/"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    event = WebhookEvent.objects.get()
    assert (event.gateway, event.status, event.payment_id) == ("sandbox", "processed", payment.pk)
    assert balance(client_account) == 1999
    assert SavedPaymentMethod.objects.get().label == "Sandbox card •••• 4242"
    done = http.get(response["Location"])
    assert '<span id="status">Paid</span>' in done.content.decode()
    # the closed page offers no buttons
    assert 'value="succeed"' not in http.get(payment.redirect_url).content.decode()


def test_fail_and_pending(client_account: Client, sandbox: PaymentMethod) -> None:
    failing = _started(client_account, sandbox)
    HttpClient().post(failing.redirect_url, {"choice": "fail"})
    failing.refresh_from_db()
    assert (failing.status, failing.failure_code) == (
        PaymentStatus.FAILED,
        "declined_on_sandbox_page",
    )
    waiting = _started(client_account, sandbox)
    HttpClient().post(waiting.redirect_url, {"choice": "pending"})
    waiting.refresh_from_db()
    assert waiting.status == PaymentStatus.PENDING
    assert LedgerTransaction.objects.count() == 0


def test_return_url_is_followed(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox, return_url="/billing/orders/12/")
    response = HttpClient().post(payment.redirect_url, {"choice": "succeed"})
    assert response["Location"] == "/billing/orders/12/"


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/phish", "//evil.example/x", "javascript:alert(1)"]
)
def test_a_return_url_elsewhere_is_not_followed(
    client_account: Client, sandbox: PaymentMethod, elsewhere: str
) -> None:
    # given a payment whose return_url leaves the site (stored before return URLs were checked)
    payment = _started(client_account, sandbox, return_url=elsewhere)
    # when the payer succeeds, then they land on the sandbox's own done page
    response = HttpClient().post(payment.redirect_url, {"choice": "succeed"})
    assert response["Location"] == f"{payment.redirect_url}done/"


def test_a_configured_return_host_is_followed(
    client_account: Client, sandbox: PaymentMethod, settings: Any
) -> None:
    settings.PAYMENT_RETURN_HOSTS = ["shop.example.com"]
    payment = _started(client_account, sandbox, return_url="https://shop.example.com/done")
    response = HttpClient().post(payment.redirect_url, {"choice": "succeed"})
    assert response["Location"] == "https://shop.example.com/done"


def test_wrong_token_is_404(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    response = HttpClient().post(f"/pay/sandbox/{payment.pk}/{'0' * 32}/", {"choice": "succeed"})
    assert response.status_code == 404
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_bad_choice_is_400(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    response = HttpClient().post(payment.redirect_url, {"choice": "steal"})
    assert response.status_code == 400
    assert 'id="error">invalid_choice<' in response.content.decode()


def test_webhook_endpoint(client_account: Client, sandbox: PaymentMethod) -> None:
    from billow.payments.gateways.sandbox.webhooks import build_event
    from tests.payments.conftest import SANDBOX_SECRET

    payment = _started(client_account, sandbox)
    headers, body = build_event(
        payment_id=payment.pk,
        reference=payment.gateway_reference,
        amount_minor=1999,
        currency="USD",
        succeeded=True,
        save_method=False,
        secret=SANDBOX_SECRET,
    )
    http = HttpClient()
    extra = {"HTTP_SANDBOX_SIGNATURE": headers["Sandbox-Signature"]}
    url = f"/pay/webhook/sandbox/{sandbox.pk}/"
    ok = http.post(url, body, content_type="application/json", **extra)
    assert (ok.status_code, ok.json()["status"]) == (200, "processed")
    again = http.post(url, body, content_type="application/json", **extra)
    assert again.json()["id"] == ok.json()["id"]
    bad = http.post(url, body + b" ", content_type="application/json", **extra)
    assert (bad.status_code, bad.json()["code"]) == (400, "webhook_signature_invalid")
    unknown = http.post("/pay/webhook/paypal/", body, content_type="application/json")
    assert unknown.status_code == 404
    assert http.get(url).status_code == 405
