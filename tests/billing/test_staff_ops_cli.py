"""``billow service …``: the staff operations from a shell call the same actions (effect, the
``staff.<operation>`` event with the staff actor) and a refusal exits 1 having written nothing."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from billow.services.models import Service, ServiceEvent
from tests.billing.world import World, db_state

pytestmark = pytest.mark.django_db


def test_special_price_and_suspend_from_the_shell() -> None:
    world = World()
    svc = world.service(
        world.client(balance=10_000), world.tariff("VPS", {"1m": 3000}), date(2025, 4, 1)
    )
    boss = get_user_model().objects.create_user("boss", "b@example.com", "pw", is_staff=True)
    out = StringIO()
    call_command(
        "service",
        "--staff",
        "boss",
        "special-price",
        str(svc.pk),
        "7.50",
        "--reason",
        "deal",
        stdout=out,
    )
    assert json.loads(out.getvalue())["service"] == svc.pk
    svc.refresh_from_db()
    assert svc.special_price_minor == 750
    call_command(
        "service", "suspend", str(svc.pk), "--abuse", "--reason", "spam", stdout=StringIO()
    )
    svc.refresh_from_db()
    assert svc.status == "suspended_abuse"
    events = ServiceEvent.objects.filter(service=svc, type__startswith="staff.").order_by("id")
    assert [(e.type, e.actor_kind, e.actor_id, e.data["reason"]) for e in events] == [
        ("staff.set_special_price", "staff", str(boss.pk), "deal"),
        ("staff.suspend", "system", "", "spam"),
    ]
    before = db_state()
    err = StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("service", "suspend", str(svc.pk), "--abuse", "--reason", "again", stderr=err)
    assert info.value.code == 1
    assert json.loads(err.getvalue())["code"] == "invalid_suspend_status"
    assert db_state() == before
    assert Service.objects.get(pk=svc.pk).status == "suspended_abuse"
