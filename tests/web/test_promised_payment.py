"""The dashboard's promised-payment button and the overdue notice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billow.billing.actions import set_client_billing_settings
from billow.billing.models import BillingPolicy, PromisedPayment
from billow.billing.monthly import payment_line
from billow.core import clock
from billow.invoicing.due import issue_due_invoice
from billow.services.models import Service
from billow.services.states import ServiceStatus
from tests.billing.world import db_state
from tests.web.conftest import WebWorld

pytestmark = pytest.mark.django_db


def test_the_button_takes_the_promise_and_resumes_the_service(web: WebWorld) -> None:
    # given a provider offering 15.00 for 3 days and client A's service suspended unpaid with
    # nothing on the balance
    BillingPolicy.objects.create(
        provider=web.world.provider, currency="USD", promised_amount_minor=1500, promised_days=3
    )
    web.world.set_balance(web.a.client, 0)
    Service.objects.filter(pk=web.a.service.pk).update(
        status=ServiceStatus.SUSPENDED_NONPAYMENT, paid_until=clock.now().date()
    )
    html = web.a.http.get("/").content.decode()
    assert "Take a promised payment of $15.00 for 3 days" in html
    # when the client presses it
    r = web.a.http.post(
        "/billing/promised-payment/",
        {"provider_id": web.world.provider.pk, "currency": "USD"},
        follow=True,
    )
    # then the service resumes and the dashboard says until when the promise runs
    page = r.content.decode()
    until = clock.now().date() + timedelta(days=3)
    assert "Promised payment of $15.00 taken" in page
    assert Service.objects.get(pk=web.a.service.pk).status == ServiceStatus.ACTIVE
    assert PromisedPayment.objects.get(client=web.a.client).expires_on == until
    assert "Promised payment of $15.00 running until" in page
    # when it presses again (a stale page): refused, nothing changes
    before = db_state()
    r = web.a.http.post(
        "/billing/promised-payment/",
        {"provider_id": web.world.provider.pk, "currency": "USD"},
        follow=True,
    )
    assert "(promised_payment_active)" in r.content.decode()
    assert db_state() == before


def test_no_button_without_an_offer_and_a_forged_post_changes_nothing(web: WebWorld) -> None:
    assert "promised payment" not in web.a.http.get("/").content.decode()
    before = db_state()
    r = web.a.http.post(
        "/billing/promised-payment/",
        {"provider_id": web.world.provider.pk, "currency": "USD"},
        follow=True,
    )
    assert "No promised payment is offered here." in r.content.decode()
    assert db_state() == before


def test_the_dashboard_says_when_payments_are_overdue(web: WebWorld) -> None:
    # given client A on a credit limit with a debt invoice due 10 days ago, respite 5 days and
    # block-in 30 days from the invoice
    today = clock.now().date()
    set_client_billing_settings(
        client=web.a.client, currency="USD", credit_limit_minor=5000, respite_days=5, block_days=30
    )
    issued = clock.now() - timedelta(days=20)
    issue_due_invoice(
        provider=web.world.provider,
        client=web.a.client,
        currency="USD",
        lines=[payment_line("Balance due", 1000)],
        due_on=today - timedelta(days=10),
        now=issued,
    )
    # then the dashboard names the state and the day the services will be suspended
    html = web.a.http.get("/").content.decode()
    assert 'data-overdue="respite_over"' in html
    assert "Respite over, not blocked (USD)" in html
    assert "services are suspended on" in html
    # and in Russian
    web.a.http.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert "Отсрочка истекла, не заблокирован (USD)" in web.a.http.get("/").content.decode()
