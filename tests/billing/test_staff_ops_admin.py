"""The staff operations in the admin (issue 13.1): a bulk operation on selected services goes
through a confirmation page listing what will change per service, then runs the one action on
each (a refused row is reported and writes nothing); a single service's form takes major units."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as Browser
from django.urls import reverse

from billow.services.models import Service, ServiceEvent
from tests.billing.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Browser:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Browser()
    browser.force_login(user)
    return browser


@pytest.fixture
def world() -> World:
    return World()


def test_bulk_suspend_confirms_then_runs_each(staff: Browser, world: World) -> None:
    tariff = world.tariff("VPS", {"1m": 3000})
    client = world.client(balance=10_000)
    one = world.service(client, tariff, date(2025, 4, 1))
    two = world.service(client, tariff, date(2025, 4, 1))
    deleted = world.service(client, tariff, date(2025, 4, 1), charge=False)
    Service.objects.filter(pk=deleted.pk).update(status="deleted")  # given: a deleted service
    changelist = reverse("admin:services_service_changelist")
    selected = [one.pk, two.pk, deleted.pk]
    r = staff.post(changelist, {"action": "staff_suspend", "_selected_action": selected})
    assert r.status_code == 302
    form_url = r["Location"]
    assert staff.get(form_url).status_code == 200
    ids = ",".join(str(i) for i in sorted(selected))
    page = staff.post(form_url, {"ids": ids, "reason": "maintenance", "preview": ""})
    body = page.content.decode()
    assert body.count("active → suspended_staff") == 2 and "deleted → suspended_staff" in body
    assert not ServiceEvent.objects.filter(type="staff.suspend").exists()  # nothing yet
    done = staff.post(form_url, {"ids": ids, "reason": "maintenance", "confirm": ""}, follow=True)
    assert f"#{deleted.pk}: service_deleted" in done.content.decode()
    statuses = dict(Service.objects.filter(pk__in=selected).values_list("pk", "status"))
    assert statuses == {one.pk: "suspended_staff", two.pk: "suspended_staff", deleted.pk: "deleted"}
    events = ServiceEvent.objects.filter(type="staff.suspend").order_by("service_id")
    assert [(e.service_id, e.actor_kind, e.data["reason"]) for e in events] == [
        (one.pk, "staff", "maintenance"),
        (two.pk, "staff", "maintenance"),
    ]


def test_special_price_form_takes_major_units(staff: Browser, world: World) -> None:
    tariff = world.tariff("VPS", {"1m": 3000})
    svc = world.service(world.client(balance=10_000), tariff, date(2025, 4, 1))
    detail = reverse("admin:services_service_change", args=[svc.pk])
    assert staff.get(detail).status_code == 200
    url = reverse("admin:services_service_staff_op", args=["special-price"])
    data: dict[str, Any] = {"ids": str(svc.pk), "amount": "7.5", "reason": "deal"}
    preview = staff.post(url, {**data, "preview": ""}).content.decode()
    assert "— → 7.50" in preview
    bad = staff.post(url, {**data, "amount": "7.505", "confirm": ""}, follow=True)
    assert "invalid_amount" in bad.content.decode()
    svc.refresh_from_db()
    assert svc.special_price_minor is None
    staff.post(url, {**data, "confirm": ""})
    svc.refresh_from_db()
    assert svc.special_price_minor == 750
    assert (
        ServiceEvent.objects.get(service=svc, type="staff.set_special_price").data[
            "special_price_minor"
        ]
        == 750
    )


def test_create_a_service_for_a_client(staff: Browser, world: World) -> None:
    tariff = world.tariff("VPS", {"1m": 3000})
    client = world.client(balance=10_000)
    client.providers.add(world.provider)
    changelist = staff.get(reverse("admin:services_service_changelist")).content.decode()
    url = reverse("admin:services_service_staff_create")
    assert "staff-create-link" in changelist
    data = {
        "client": client.pk,
        "tariff": tariff.pk,
        "period": "1m",
        "currency": "USD",
        "charge": "on",
        "reason": "phone order",
    }
    refused = staff.post(url, {**data, "paid_until": "2030-01-01"})
    assert "paid_until_with_charge" in refused.content.decode()
    assert not Service.objects.filter(client=client).exists()
    r = staff.post(url, data)
    assert r.status_code == 302
    svc = Service.objects.get(client=client)
    assert (svc.status, world.balance(client)) == ("active", 7_000)
    event = ServiceEvent.objects.get(service=svc, type="staff.create")
    assert (event.actor_kind, event.data["reason"]) == ("staff", "phone order")
