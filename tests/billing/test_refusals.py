"""Bad input: a clear error code and nothing changed in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billow.billing.actions import (
    change_addons,
    change_tariff,
    charge_opening,
    delete_service,
    renew_service,
    set_client_billing_settings,
)
from billow.catalog import actions as catalog
from billow.core.errors import BillowError
from billow.services.models import Service
from billow.services.states import ServiceStatus
from tests.billing.world import World, at, db_state

pytestmark = pytest.mark.django_db
APRIL_16 = at(date(2025, 4, 16))


def refused(code: str, call: Callable[[], Any]) -> None:
    before = db_state()
    with pytest.raises(BillowError) as info:
        call()
    assert info.value.code == code
    assert db_state() == before


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def setup(world: World) -> dict[str, Any]:
    tariff = world.tariff("VPS", {"1m": 3000, "day": 100})
    catalog.create_addon(
        tariff=tariff,
        name="CPU",
        intname="cpu",
        unit="vCPU",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=300,
        included=1,
        min_value=1,
        max_value=8,
        step=1,
        edit_policy="increase_only",
    )
    catalog.create_addon(
        tariff=tariff,
        name="Disk",
        intname="disk",
        unit="GiB",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=10,
        included=20,
        min_value=20,
        max_value=500,
        step=10,
    )
    client = world.client(balance=10_000)
    service = world.service(client, tariff, date(2025, 4, 1), addon_values={"cpu": 2})
    return {"tariff": tariff, "client": client, "service": service}


def test_renewing_a_deleted_service(world: World, setup: dict[str, Any]) -> None:
    service = setup["service"]
    delete_service(service=service, when="now", now=APRIL_16)
    refused("service_deleted", lambda: renew_service(service=service, now=APRIL_16))
    refused("service_deleted", lambda: delete_service(service=service, now=APRIL_16))
    refused("service_deleted", lambda: charge_opening(service=service, now=APRIL_16))


def test_renewing_without_money(world: World, setup: dict[str, Any]) -> None:
    poor = world.client(balance=3300)
    service = world.service(poor, setup["tariff"], date(2025, 4, 1), addon_values={"cpu": 2})
    refused("insufficient_funds", lambda: renew_service(service=service, now=APRIL_16))


def test_renewing_a_daily_service(world: World, setup: dict[str, Any]) -> None:
    daily = world.service(setup["client"], setup["tariff"], date(2025, 4, 1), period="day")
    refused("daily_not_renewable", lambda: renew_service(service=daily, now=APRIL_16))


def test_a_tariff_of_another_product_type(world: World, setup: dict[str, Any]) -> None:
    other_type = catalog.create_product_type(name="Dedicated", intname="dedicated-x")
    other = world.tariff("Dedic", {"1m": 9000}, product_type=other_type)
    refused(
        "tariff_incompatible",
        lambda: change_tariff(service=setup["service"], tariff=other, now=APRIL_16),
    )


def test_a_tariff_of_another_provider(world: World, setup: dict[str, Any]) -> None:
    from billow.accounts.models import Provider

    rival = Provider.objects.create(name="Rival", code="rival")
    other = world.tariff("VPS", {"1m": 9000}, provider=rival)
    refused(
        "tariff_incompatible",
        lambda: change_tariff(service=setup["service"], tariff=other, now=APRIL_16),
    )


def test_the_same_tariff(setup: dict[str, Any]) -> None:
    refused(
        "nothing_to_change",
        lambda: change_tariff(service=setup["service"], tariff=setup["tariff"], now=APRIL_16),
    )


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"cpu": 9}, "addon_value_out_of_range"),
        ({"disk": 10}, "addon_value_out_of_range"),
        ({"disk": 25}, "addon_step_mismatch"),
        ({"cpu": 1}, "addon_edit_forbidden"),  # increase only
        ({"cpu": "two"}, "invalid_addon_value"),
        ({"gpu": 1}, "unknown_addon"),
        ({"cpu": 2}, "nothing_to_change"),
    ],
)
def test_bad_addon_values(setup: dict[str, Any], values: dict[str, Any], code: str) -> None:
    refused(
        code, lambda: change_addons(service=setup["service"], addon_values=values, now=APRIL_16)
    )


def test_an_upgrade_the_client_cannot_pay(world: World, setup: dict[str, Any]) -> None:
    poor = world.client(balance=3300)
    service = world.service(poor, setup["tariff"], date(2025, 4, 1), addon_values={"cpu": 2})
    refused(
        "insufficient_funds",
        lambda: change_addons(service=service, addon_values={"cpu": 8}, now=APRIL_16),
    )


def test_actions_on_a_service_with_an_operation_running(setup: dict[str, Any]) -> None:
    service = setup["service"]
    Service.objects.filter(pk=service.pk).update(status=ServiceStatus.IN_PROGRESS)
    refused("service_not_billable", lambda: renew_service(service=service, now=APRIL_16))
    refused("service_not_billable", lambda: delete_service(service=service, now=APRIL_16))


def test_postpaid_with_a_credit_limit(setup: dict[str, Any]) -> None:
    client = setup["client"]
    refused(
        "credit_limit_with_postpaid",
        lambda: set_client_billing_settings(
            client=client, currency="USD", credit_limit_minor=100, postpaid=True
        ),
    )
    refused(
        "invalid_credit_limit",
        lambda: set_client_billing_settings(client=client, currency="USD", credit_limit_minor=-1),
    )
    refused(
        "unknown_currency",
        lambda: set_client_billing_settings(client=client, currency="XXX", postpaid=True),
    )
