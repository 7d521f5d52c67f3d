"""Ordering a service: validation codes, nothing written on refusal, module instance choice."""

from __future__ import annotations

from typing import Any

import pytest

from billow.catalog import actions as catalog
from billow.core.errors import BillowError
from billow.services import actions
from billow.services.models import Service, ServiceEvent

from .conftest import T0, services_counts


@pytest.mark.django_db
def test_order_creates_an_ordered_service_on_the_best_instance(client, tariff, dummy, vps_type):
    # given a cheaper-priority instance serving the tariff itself and an inactive one
    best = actions.create_module_instance(
        module="manual", name="m-best", priority=1, tariffs=[tariff]
    )
    actions.create_module_instance(
        module="dummy", name="off", priority=0, is_active=False, product_types=[vps_type]
    )
    svc = actions.create_service(
        client=client,
        tariff=tariff,
        period="3m",
        currency="USD",
        addon_values={"cpu": 4},
        parameters={"os": "ubuntu-24.04"},
        auto_renew_period="1m",
    )
    svc.refresh_from_db()
    assert (svc.status, svc.period, svc.currency, svc.provider_id) == (
        "ordered",
        "3m",
        "USD",
        tariff.provider_id,
    )
    assert (svc.addon_values, svc.parameters) == ({"cpu": 4}, {"os": "ubuntu-24.04"})
    assert (svc.module_instance_id, svc.auto_renew_period, svc.anchor_day) == (best.pk, "1m", 1)
    assert (svc.ordered_at, svc.name, svc.billing_mode) == (T0, "VPS-S", "anniversary")
    event = ServiceEvent.objects.get(service=svc)
    assert (event.type, event.from_status, event.to_status) == ("service.ordered", "", "ordered")


@pytest.mark.django_db
def test_without_module_instance_the_order_is_taken(client, tariff):
    svc = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    assert svc.module_instance_id is None


BAD: list[tuple[dict[str, Any], str]] = [
    ({"period": "12m"}, "period_not_offered"),
    ({"currency": "EUR"}, "period_not_offered"),
    ({"period": "7w"}, "invalid_period"),
    ({"addon_values": {"cpu": 17}}, "addon_value_out_of_range"),
    ({"addon_values": {"cpu": 0}}, "addon_value_out_of_range"),
    ({"addon_values": {"disk": 25}}, "addon_step_mismatch"),
    ({"addon_values": {"cpu": "two"}}, "invalid_addon_value"),
    ({"addon_values": {"gpu": 1}}, "unknown_addon"),
    ({"parameters": {"os": "windows"}}, "invalid_parameter"),
    ({"parameters": {"os": "debian-12", "panel": "x"}}, "invalid_parameter"),
    ({"parameters": {}}, "missing_parameter"),
    ({"auto_renew_period": "12m"}, "invalid_auto_renew_period"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "code"), BAD)
def test_bad_orders_are_refused_and_change_nothing(client, tariff, dummy, change, code):
    kwargs = {
        "client": client,
        "tariff": tariff,
        "period": "1m",
        "currency": "USD",
        "parameters": {"os": "debian-12"},
        **change,
    }
    before = services_counts()
    with pytest.raises(BillowError) as err:
        actions.create_service(**kwargs)
    assert err.value.code == code
    assert services_counts() == before


@pytest.mark.django_db
def test_tariff_of_another_provider_or_inactive(client, other_provider, vps_type, tariff):
    foreign = catalog.create_tariff(
        provider_id=other_provider.pk, product_type=vps_type, name="Foreign"
    )
    catalog.set_tariff_price(tariff=foreign, period="1m", currency="USD", amount_minor=100)
    before = services_counts()
    with pytest.raises(BillowError) as err:
        actions.create_service(
            client=client,
            tariff=foreign,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
    assert err.value.code == "tariff_of_other_provider"
    tariff.status = "inactive"
    tariff.save()
    with pytest.raises(BillowError) as err:
        actions.create_service(
            client=client,
            tariff=tariff,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
    assert err.value.code == "tariff_not_active"
    assert services_counts() == before


@pytest.mark.django_db
def test_order_limit(client, tariff):
    tariff.order_limit = 1
    tariff.save()
    kw = {
        "client": client,
        "tariff": tariff,
        "period": "1m",
        "currency": "USD",
        "parameters": {"os": "debian-12"},
    }
    first = actions.create_service(**kw)
    with pytest.raises(BillowError) as err:
        actions.create_service(**kw)
    assert err.value.code == "order_limit_reached"
    assert Service.objects.count() == 1
    actions.transition_service(service=first, to="deleted", actor=None)
    actions.create_service(**kw)  # a deleted service no longer counts
    assert Service.objects.count() == 2
