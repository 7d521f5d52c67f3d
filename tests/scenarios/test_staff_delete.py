"""Scenario: staff deleting a service from the admin apply the product type's deletion policy and
refund exactly as the client deleting it in the client area (one ``delete_service``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient
from django.urls import reverse

from billow.billing.models import Expense
from billow.catalog.choices import DeletionPolicy
from billow.services.models import Service, ServiceEvent
from tests.web.conftest import WebWorld, web  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
TODAY = date(2025, 1, 20)


def _outcome(world: WebWorld, service: Service) -> dict[str, Any]:
    """What a deletion leaves: the service, its money and its events (ids left out)."""
    s = Service.objects.get(pk=service.pk)
    client = s.client
    return {
        "service": (s.status, s.paid_until, s.delete_at_period_end, s.deleted_at),
        "expenses": list(
            Expense.objects.filter(service=s)
            .order_by("id")
            .values_list("kind", "reason", "period_from", "period_to", "amount_minor")
        ),
        "balance": world.world.balance(client),
        "events": list(
            ServiceEvent.objects.filter(service=s)
            .order_by("id")
            .values_list("type", "from_status", "to_status")
        ),
    }


def _staff() -> HttpClient:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.mark.parametrize(
    ("policy", "status", "paid_until", "scheduled", "refund"),
    [
        # 10.00 a month, deleted on day 10 of 31: the 21 unused days come back
        (DeletionPolicy.IMMEDIATELY, "deleted", TODAY, False, 677),
        (DeletionPolicy.AFTER_AUTO_DELETE, "deleted", TODAY, False, 677),
        (DeletionPolicy.PERIOD_END, "active", date(2025, 2, 10), True, None),
    ],
)
@time_machine.travel(TODAY, tick=False)
def test_a_staff_delete_applies_the_policy_as_the_clients_does(
    web: WebWorld,  # noqa: F811
    policy: str,
    status: str,
    paid_until: date,
    scheduled: bool,
    refund: int | None,
) -> None:
    # given two identical services of a product type with this deletion policy
    web.world.set_product_type(deletion_policy=policy)
    before = web.world.balance(web.b.client)
    # when the client deletes one in the client area and staff delete the other in the admin
    web.a.http.post(f"/services/{web.a.service.pk}/delete/", {"confirm": "on"})
    page = _staff().post(
        reverse("admin:services_service_changelist"),
        {"action": "delete_services", "_selected_action": [web.b.service.pk]},
        follow=True,
    )
    assert b"1 row(s) done." in page.content
    # then both end the same way: deleted now with the unused part refunded, or scheduled
    by_client, by_staff = _outcome(web, web.a.service), _outcome(web, web.b.service)
    assert by_staff["service"][:3] == (status, paid_until, scheduled)
    assert by_staff["service"] == by_client["service"]
    assert by_staff["expenses"] == by_client["expenses"]
    assert by_staff["balance"] == by_client["balance"]
    assert by_staff["events"] == by_client["events"]
    refunds = [e for e in by_staff["expenses"] if e[0] == "refund"]
    if refund is None:
        assert refunds == []
        assert by_staff["balance"] == before
        assert by_staff["events"][-1] == ("service.deletion_scheduled", "active", "active")
    else:
        assert refunds == [("refund", "deletion", TODAY, date(2025, 2, 10), refund)]
        assert by_staff["balance"] == before + refund


@time_machine.travel(TODAY, tick=False)
def test_staff_may_delete_a_failed_service_the_client_may_not(web: WebWorld) -> None:  # noqa: F811
    from billow.billing.actions import delete_service
    from billow.core.actors import Actor
    from billow.core.errors import BillowError

    web.world.set_product_type(deletion_policy=DeletionPolicy.IMMEDIATELY)
    Service.objects.filter(pk=web.a.service.pk).update(status="failed")
    before = _outcome(web, web.a.service)
    with pytest.raises(BillowError) as refused:
        delete_service(service=web.a.service, actor=Actor.client_user(web.a.owner))
    assert refused.value.code == "service_not_billable"
    assert _outcome(web, web.a.service) == before
    deleted = delete_service(service=web.a.service, refund=True, actor=Actor.staff(web.a.owner))
    assert (deleted.status, deleted.paid_until) == ("deleted", TODAY)
    assert _outcome(web, web.a.service)["events"][-1] == ("service.deleted", "failed", "deleted")
