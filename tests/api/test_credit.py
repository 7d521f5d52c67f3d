"""The credit endpoints: the promised payment's offer and taking it (refusals write nothing),
the overdue state and the recommended amount to pay."""

from __future__ import annotations

from datetime import timedelta

from billow.billing.models import BillingPolicy, PromisedPayment
from billow.core import clock
from billow.services.models import Service
from billow.services.states import ServiceStatus
from tests.api.conftest import MONTH_PRICE, Tenant
from tests.billing.world import db_state


def set_balance(tenant: Tenant, amount_minor: int) -> None:
    tenant.world.set_balance(tenant.client, amount_minor)


def offer_promises(tenant: Tenant) -> None:
    BillingPolicy.objects.create(
        provider=tenant.world.provider, currency="USD", promised_amount_minor=2500, promised_days=3
    )


def test_a_client_takes_the_promised_payment_and_its_suspended_service_resumes(
    tenant_a: Tenant,
) -> None:
    # given a provider offering 25.00 for 3 days, and the client's service suspended unpaid
    offer_promises(tenant_a)
    world, client = tenant_a.world, tenant_a.client
    set_balance(tenant_a, 0)
    today = clock.now().date()
    Service.objects.filter(pk=tenant_a.service.pk).update(
        status=ServiceStatus.SUSPENDED_NONPAYMENT, paid_until=today
    )
    api = tenant_a.api()
    query = {"provider_id": world.provider.pk, "currency": "USD"}
    # when it asks what it may take
    offer = api.get("/api/v1/promised-payment/", query)
    assert offer.status_code == 200
    assert offer.json() == {
        "available": True,
        "code": "",
        "amount": {"amount_minor": 2500, "currency": "USD", "formatted": "25.00"},
        "days": 3,
        "available_on": None,
        "active": None,
    }
    # and takes it
    r = api.post("/api/v1/promised-payment/", query, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    # then the promise runs 3 days and the service is renewed on it and resumed
    assert r.status_code == 201
    assert r.json()["expires_on"] == (today + timedelta(days=3)).isoformat()
    assert r.json()["amount"]["formatted"] == "25.00"
    service = Service.objects.get(pk=tenant_a.service.pk)
    assert service.status == ServiceStatus.ACTIVE
    assert world.balance(client) == -MONTH_PRICE
    # when it tries again: refused with the offer's code, nothing written
    before = db_state()
    again = api.post("/api/v1/promised-payment/", query, format="json", HTTP_IDEMPOTENCY_KEY="p-2")
    assert again.status_code == 400
    assert again.json()["code"] == "promised_payment_active"
    assert db_state() == before
    assert PromisedPayment.objects.filter(client=client).count() == 1


def test_not_offered_and_another_providers_id_is_404(tenant_a: Tenant, tenant_b: Tenant) -> None:
    api = tenant_a.api()
    before = db_state()
    mine = {"provider_id": tenant_a.world.provider.pk, "currency": "USD"}
    r = api.post("/api/v1/promised-payment/", mine, format="json", HTTP_IDEMPOTENCY_KEY="n-1")
    assert (r.status_code, r.json()["code"]) == (400, "promised_payment_unavailable")
    theirs = {"provider_id": tenant_b.world.provider.pk, "currency": "USD"}
    r = api.post("/api/v1/promised-payment/", theirs, format="json", HTTP_IDEMPOTENCY_KEY="n-2")
    assert r.status_code == 404
    assert db_state() == before


def test_the_recommended_amount_is_what_the_window_needs_less_the_balance(
    tenant_a: Tenant,
) -> None:
    # given 2.50 on the balance and the 10.00 service renewing within the window
    world = tenant_a.world
    set_balance(tenant_a, 250)
    Service.objects.filter(pk=tenant_a.service.pk).update(
        paid_until=clock.now().date() + timedelta(days=2)
    )
    r = tenant_a.api().get("/api/v1/credit/")
    assert r.status_code == 200
    assert r.json() == {
        "overdue": [],
        "recommended": [
            {
                "provider_id": world.provider.pk,
                "amount": {"amount_minor": 750, "currency": "USD", "formatted": "7.50"},
                "needed": {"amount_minor": 1000, "currency": "USD", "formatted": "10.00"},
                "available": {"amount_minor": 250, "currency": "USD", "formatted": "2.50"},
            }
        ],
    }
