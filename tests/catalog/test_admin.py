"""The admin refuses what the actions refuse (model clean() runs the same validators)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import Client

from billow.accounts.models import ClientGroup, Provider
from billow.catalog.models import Addon, ExchangeRate, Tariff, TariffPrice

from .conftest import catalog_counts

pytestmark = pytest.mark.django_db


def _addon_form(t: Tariff, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tariff": t.pk,
        "name": "GPU",
        "intname": "gpu",
        "unit": "",
        "value_type": "int",
        "billing_type": "on_order",
        "included": 0,
        "min_value": 0,
        "max_value": 10,
        "step": 1,
        "default_value": 0,
        "currency": "USD",
        "unit_price_minor": 100,
        "edit_policy": "any",
        "overage_price_minor": "0",
        "statistics_rating": "per_month",
        "aggregation": "sum",
        "is_active": "on",
        "sort": 0,
    }
    for prefix in ("prices", "price_points", "enum_prices"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    return data | kw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_value": 5, "max_value": 4}, "min_value 5 &gt; max_value 4"),
        ({"step": 3}, "step 3 does not divide the range 0..10"),
        ({"unit_price_minor": -1}, "unit_price_minor must not be negative"),
        ({"value_type": "enum"}, "An enum addon needs an enumeration"),
    ],
)
def test_admin_addon_form_shows_validation_error(
    admin_client: Client, vps_tariff: Tariff, changes: dict[str, Any], message: str
) -> None:
    # given
    before = catalog_counts()
    # when staff submits a bad addon
    resp = admin_client.post("/admin/catalog/addon/add/", _addon_form(vps_tariff, **changes))
    # then the form is shown again with the error, and nothing is saved
    assert resp.status_code == 200
    assert message in resp.content.decode()
    assert catalog_counts() == before


def test_admin_addon_form_saves_valid_input(admin_client: Client, vps_tariff: Tariff) -> None:
    resp = admin_client.post("/admin/catalog/addon/add/", _addon_form(vps_tariff))
    assert resp.status_code == 302
    assert Addon.objects.get(intname="gpu").max_value == 10


def test_admin_tariff_visibility_overlap_refused(
    admin_client: Client,
    currencies: None,
    provider: Provider,
    vps_tariff: Tariff,
    group: ClientGroup,
) -> None:
    data: dict[str, Any] = {
        "provider": provider.pk,
        "product_type": vps_tariff.product_type_id,
        "name": "T2",
        "status": "active",
        "billing_mode": "anniversary",
        "prorata_day": 1,
        "trial_days": 0,
        "sort": 0,
        "description": "",
        "visible_to_groups": [group.pk],
        "hidden_from_groups": [group.pk],
    }
    for prefix in ("prices", "addons"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    before = catalog_counts()
    resp = admin_client.post("/admin/catalog/tariff/add/", data)
    assert resp.status_code == 200
    assert "A group cannot be both allowed and forbidden" in resp.content.decode()
    assert catalog_counts() == before
    # and a prorata day of 29 is refused by the same validator as the action
    resp = admin_client.post(
        "/admin/catalog/tariff/add/", data | {"hidden_from_groups": [], "prorata_day": 29}
    )
    assert "prorata_day must be between 1 and 28" in resp.content.decode()
    assert catalog_counts() == before


def test_admin_tariff_provider_is_read_only_after_creation(
    admin_client: Client, vps_tariff: Tariff
) -> None:
    resp = admin_client.get(f"/admin/catalog/tariff/{vps_tariff.pk}/change/")
    assert resp.status_code == 200
    assert 'name="provider"' not in resp.content.decode()


def test_model_clean_matches_action_codes(vps_tariff: Tariff) -> None:
    price = TariffPrice(tariff=vps_tariff, period="6m", currency_id="USD", amount_minor=-5)
    with pytest.raises(DjangoValidationError) as exc:
        price.full_clean()
    assert exc.value.error_dict["amount_minor"][0].code == "negative_price"
    rate = ExchangeRate(base_id="EUR", quote_id="EUR", valid_from="2026-01-01", rate=0)
    with pytest.raises(DjangoValidationError) as exc:
        rate.full_clean()
    assert exc.value.error_dict["rate"][0].code == "invalid_rate"


@pytest.mark.parametrize(
    "url",
    [
        "currency",
        "exchangerate",
        "producttype",
        "producttypeparameter",
        "tariff",
        "addon",
        "enumeration",
    ],
)
def test_admin_changelists_render(admin_client: Client, vps_tariff: Tariff, url: str) -> None:
    assert admin_client.get(f"/admin/catalog/{url}/").status_code == 200
    assert admin_client.get(f"/admin/catalog/{url}/add/").status_code == 200
