"""Imports fixtures: a provider selling two tariffs in USD, a module instance, a mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from billow.accounts.models import Provider
from billow.catalog import actions as catalog
from billow.core import clock
from billow.imports.mapping import Mapping, resolve_mapping
from billow.services import actions as services

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COUNTED_APPS = ("accounts", "ledger", "services", "invoicing", "imports")


def row_counts() -> dict[str, int]:
    """Row count of every table the import writes: "nothing written" / "nothing changed"."""
    counts = {
        m._meta.db_table: m.objects.count()
        for app in COUNTED_APPS
        for m in apps.get_app_config(app).get_models(include_auto_created=True)
    }
    counts["auth_user"] = get_user_model().objects.count()
    return counts


@pytest.fixture(autouse=True)
def _at_t0() -> Iterator[None]:
    with clock.use_clock(clock.FixedClock(T0)):
        yield


@pytest.fixture
def provider(db: Any) -> Provider:
    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    catalog.create_currency(code="EUR", name="Euro", symbol="€")
    return Provider.objects.create(name="Cloudy", code="cloudy")


@pytest.fixture
def tariffs(provider: Provider) -> dict[str, Any]:
    hosting = catalog.create_product_type(name="Hosting", intname="hosting")
    small = catalog.create_tariff(provider_id=provider.pk, product_type=hosting, name="Small")
    large = catalog.create_tariff(provider_id=provider.pk, product_type=hosting, name="Large")
    for tariff, monthly in ((small, 500), (large, 2000)):
        for currency in ("USD", "EUR"):
            catalog.set_tariff_price(
                tariff=tariff, period="1m", currency=currency, amount_minor=monthly
            )
            catalog.set_tariff_price(
                tariff=tariff, period="12m", currency=currency, amount_minor=monthly * 10
            )
    return {"small": small, "large": large, "type": hosting}


@pytest.fixture
def module_instance(tariffs: dict[str, Any]) -> Any:
    return services.create_module_instance(module="manual", name="node-1")


@pytest.fixture
def mapping(tariffs: dict[str, Any], module_instance: Any) -> Mapping:
    return resolve_mapping(
        {
            "provider": "cloudy",
            "tariffs": {
                "1": {"tariff": tariffs["small"].pk, "period": "1m"},
                "2": {"tariff": "Large"},
            },
            "servers": {"7": "node-1"},
        }
    )
