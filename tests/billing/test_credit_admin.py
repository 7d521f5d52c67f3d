"""Staff grant and revoke promised payments, and set credit terms, from the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from billow.billing.models import ClientBillingSettings, PromisedPayment
from billow.core import clock
from tests.billing.world import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["billingpolicy", "promisedpayment", "clientbillingsettings"])
def test_pages_render(admin_client: Any, model: str) -> None:
    assert admin_client.get(reverse(f"admin:billing_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:billing_{model}_add")).status_code == 200


def test_staff_grant_through_the_add_form_and_revoke_with_the_action(admin_client: Any) -> None:
    world = World()
    client = world.client()
    r = admin_client.post(
        reverse("admin:billing_promisedpayment_add"),
        {
            "client": client.pk,
            "provider": world.provider.pk,
            "currency": "USD",
            "amount_minor": 4000,
            "days": 7,
        },
    )
    assert r.status_code == 302
    promise = PromisedPayment.objects.get(client=client)
    today = clock.now().date()
    assert (promise.amount_minor, promise.granted_by_staff, promise.status) == (
        4000,
        True,
        "active",
    )
    assert (promise.expires_on - today).days == 7
    assert promise.actor.startswith("staff:")
    r = admin_client.post(
        reverse("admin:billing_promisedpayment_changelist"),
        {"action": "revoke", "_selected_action": [promise.pk]},
    )
    assert r.status_code == 302
    promise.refresh_from_db()
    assert promise.status == "revoked"
    terms = ClientBillingSettings.objects.get(client=client, currency="USD")
    assert (terms.promised_minor, terms.promised_until) == (0, today)


def test_credit_terms_are_saved_through_the_action(admin_client: Any) -> None:
    client = World().client()
    r = admin_client.post(
        reverse("admin:billing_clientbillingsettings_add"),
        {
            "client": client.pk,
            "currency": "USD",
            "credit_limit_minor": 5000,
            "respite_days": 3,
            "block_days": 10,
        },
    )
    assert r.status_code == 302
    terms = ClientBillingSettings.objects.get(client=client)
    assert (terms.credit_limit_minor, terms.respite_days, terms.block_days) == (5000, 3, 10)
    assert terms.respite_unlimited is False
