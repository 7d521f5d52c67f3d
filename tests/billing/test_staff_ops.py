"""Staff service operations that may move money (issue 13.1): create with or without a charge,
change the plan with or without a charge, renew by hand with or without a charge, delete with
the deletion policy. Each: the effect to the cent, the ``staff.<operation>`` event (actor +
reason), and a refusal that writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.billing.actions import (
    change_service_plan,
    create_service_for_client,
    delete_service_by_staff,
    renew_service_by_staff,
)
from billow.billing.models import Expense
from billow.catalog.choices import DeletionPolicy
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor, ActorKind
from billow.core.errors import BillowError
from billow.services.actions import NewService
from billow.services.models import Service, ServiceEvent
from billow.services.states import ServiceStatus
from tests.billing.world import World, at, db_state

pytestmark = pytest.mark.django_db
S = ServiceStatus
STAFF = Actor(ActorKind.STAFF, "7", "boss")
APRIL_10 = at(date(2025, 4, 10))


def state() -> dict[str, Any]:
    return {
        **db_state(),
        "special": sorted(Service.objects.values_list("id", "special_price_minor")),
        "events": ServiceEvent.objects.count(),
    }


def refused(code: str, call: Callable[[], Any]) -> None:
    before = state()
    with pytest.raises(BillowError) as info:
        call()
    assert info.value.code == code
    assert state() == before


def staff_event(service: Service, operation: str) -> dict[str, Any]:
    (event,) = ServiceEvent.objects.filter(service=service, type=f"staff.{operation}")
    assert (event.actor_kind, event.actor_id) == ("staff", "7")
    return dict(event.data)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def tariff(world: World) -> Tariff:
    return world.tariff("VPS", {"1m": 3000, "3m": 8400, "day": 100})


@pytest.fixture
def client(world: World) -> Client:
    c = world.client(balance=10_000)
    c.providers.add(world.provider)
    return c


def new(client: Client, tariff: Tariff, **fields: Any) -> NewService:
    return NewService(client=client, tariff=tariff, period="1m", currency="USD", **fields)


# -- create -------------------------------------------------------------------------------------


def test_create_with_a_charge(world: World, client: Client, tariff: Tariff) -> None:
    with clock.use_clock(clock.FixedClock(APRIL_10)):
        svc = create_service_for_client(
            new=new(client, tariff), charge=True, actor=STAFF, reason="phone order"
        )
    assert (svc.status, svc.paid_until, svc.anchor_day) == (S.ACTIVE, date(2025, 5, 10), 10)
    assert world.expenses(svc) == [("charge", date(2025, 4, 10), date(2025, 5, 10), 3000)]
    assert world.balance(client) == 7_000
    assert staff_event(svc, "create")["reason"] == "phone order"
    assert ServiceEvent.objects.filter(service=svc, type="service.charged").count() == 1


def test_create_without_a_charge(world: World, client: Client, tariff: Tariff) -> None:
    svc = create_service_for_client(
        new=new(client, tariff, paid_until=date(2030, 1, 1)),
        charge=False,
        actor=STAFF,
        reason="migrated",
        now=APRIL_10,
    )
    assert (svc.status, svc.paid_until) == (S.ACTIVE, date(2030, 1, 1))
    assert world.expenses(svc) == []
    assert world.balance(client) == 10_000
    assert staff_event(svc, "create")["paid_until"] == "2030-01-01"


def test_create_refusals_write_nothing(world: World, client: Client, tariff: Tariff) -> None:
    world.set_balance(client, 1_000)
    refused(
        "insufficient_funds",
        lambda: create_service_for_client(
            new=new(client, tariff), charge=True, actor=STAFF, reason="r", now=APRIL_10
        ),
    )
    refused(
        "paid_until_with_charge",
        lambda: create_service_for_client(
            new=new(client, tariff, paid_until=date(2030, 1, 1)),
            charge=True,
            actor=STAFF,
            reason="r",
            now=APRIL_10,
        ),
    )
    refused(
        "reason_required",
        lambda: create_service_for_client(
            new=new(client, tariff), charge=False, actor=STAFF, reason="", now=APRIL_10
        ),
    )
    stranger = world.client()
    refused(
        "tariff_of_other_provider",
        lambda: create_service_for_client(
            new=new(stranger, tariff), charge=False, actor=STAFF, reason="r", now=APRIL_10
        ),
    )


# -- plan, renewal ------------------------------------------------------------------------------


@pytest.fixture
def service(world: World, client: Client, tariff: Tariff) -> Service:
    return world.service(client, tariff, date(2025, 4, 1))  # paid to May 1: 30.00 charged


def test_change_tariff_with_a_charge(world: World, client: Client, service: Service) -> None:
    big = world.tariff("VPS big", {"1m": 6000})
    change_service_plan(
        service=service, tariff=big, charge=True, actor=STAFF, reason="upgrade", now=APRIL_10
    )
    service.refresh_from_db()
    assert service.tariff_id == big.pk
    # 30.00 more a month for 21 of 30 days: 21.00
    assert world.expenses(service)[-1] == ("charge", date(2025, 4, 10), date(2025, 5, 1), 2100)
    assert world.balance(client) == 10_000 - 3000 - 2100
    event = staff_event(service, "change_plan")
    assert (event["reason"], event["charged"], event["charge_minor"]) == ("upgrade", True, 2100)


def test_change_tariff_without_a_charge(world: World, client: Client, service: Service) -> None:
    big = world.tariff("VPS big", {"1m": 6000})
    change_service_plan(
        service=service, tariff=big, charge=False, actor=STAFF, reason="gift", now=APRIL_10
    )
    service.refresh_from_db()
    assert service.tariff_id == big.pk
    assert len(world.expenses(service)) == 1
    assert world.balance(client) == 7_000
    assert staff_event(service, "change_plan")["charged"] is False


def test_change_plan_refusals_write_nothing(world: World, client: Client, service: Service) -> None:
    big = world.tariff("VPS big", {"1m": 600_000})
    refused(
        "insufficient_funds",
        lambda: change_service_plan(
            service=service, tariff=big, charge=True, actor=STAFF, reason="r", now=APRIL_10
        ),
    )
    refused(
        "reason_required",
        lambda: change_service_plan(
            service=service, tariff=big, charge=True, actor=STAFF, reason=" ", now=APRIL_10
        ),
    )
    refused(
        "nothing_to_change",
        lambda: change_service_plan(
            service=service, charge=True, actor=STAFF, reason="r", now=APRIL_10
        ),
    )


def test_renew_by_hand_with_a_charge(world: World, client: Client, service: Service) -> None:
    world.topup(client, 10_000)
    renew_service_by_staff(
        service=service, period="3m", charge=True, actor=STAFF, reason="asked", now=APRIL_10
    )
    service.refresh_from_db()
    assert service.paid_until == date(2025, 8, 1)
    assert world.expenses(service)[-1] == ("charge", date(2025, 5, 1), date(2025, 8, 1), 8400)
    assert world.balance(client) == 20_000 - 3000 - 8400
    event = staff_event(service, "renew")
    assert (event["charged"], event["amount_minor"], event["paid_until"]) == (
        True,
        8400,
        "2025-08-01",
    )


def test_renew_by_hand_without_a_charge(world: World, client: Client, service: Service) -> None:
    renew_service_by_staff(
        service=service, charge=False, actor=STAFF, reason="outage credit", now=APRIL_10
    )
    service.refresh_from_db()
    assert service.paid_until == date(2025, 6, 1)
    assert len(world.expenses(service)) == 1
    assert world.balance(client) == 7_000
    assert staff_event(service, "renew") == {
        "reason": "outage credit",
        "paid_until_before": "2025-05-01",
        "paid_until": "2025-06-01",
        "charged": False,
        "period": "1m",
    }


def test_renew_refusals_write_nothing(world: World, client: Client, service: Service) -> None:
    world.set_balance(client, 0)
    refused(
        "insufficient_funds",
        lambda: renew_service_by_staff(
            service=service, charge=True, actor=STAFF, reason="r", now=APRIL_10
        ),
    )
    refused(
        "period_not_renewable",
        lambda: renew_service_by_staff(
            service=service, period="day", charge=False, actor=STAFF, reason="r", now=APRIL_10
        ),
    )
    refused(
        "reason_required",
        lambda: renew_service_by_staff(
            service=service, charge=False, actor=STAFF, reason="", now=APRIL_10
        ),
    )


# -- delete -------------------------------------------------------------------------------------


def test_delete_now_with_a_refund(world: World, client: Client, service: Service) -> None:
    delete_service_by_staff(
        service=service, when="now", refund=True, actor=STAFF, reason="abuse", now=APRIL_10
    )
    service.refresh_from_db()
    assert (service.status, service.paid_until) == (S.DELETED, date(2025, 4, 10))
    # 21 of 30 days unused: 21.00 back
    assert world.expenses(service)[-1] == ("refund", date(2025, 4, 10), date(2025, 5, 1), 2100)
    assert world.balance(client) == 7_000 + 2100
    assert staff_event(service, "delete") == {"reason": "abuse", "when": "now", "refund": True}


def test_delete_follows_the_period_end_policy(world: World, service: Service) -> None:
    world.set_product_type(deletion_policy=DeletionPolicy.PERIOD_END)
    delete_service_by_staff(service=service, actor=STAFF, reason="client left", now=APRIL_10)
    service.refresh_from_db()
    assert (service.status, service.delete_at_period_end) == (S.ACTIVE, True)
    assert staff_event(service, "delete")["when"] == "period_end"
    assert Expense.objects.filter(service=service).count() == 1


def test_delete_refusals_write_nothing(service: Service) -> None:
    refused(
        "reason_required",
        lambda: delete_service_by_staff(service=service, actor=STAFF, reason="", now=APRIL_10),
    )
    refused(
        "invalid_choice",
        lambda: delete_service_by_staff(
            service=service, when="later", actor=STAFF, reason="r", now=APRIL_10
        ),
    )
