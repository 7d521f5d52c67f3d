"""Shared by the orders, marketing and invoicing tests: a provider selling a VPS tariff
(dummy module), clients with balances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from huey.contrib.djhuey import HUEY

from billow.accounts.models import Client, Provider
from billow.catalog import actions as catalog
from billow.catalog.models import Tariff
from billow.catalog.models.currency import Currency
from billow.core import clock
from billow.ledger.actions import adjust_client_balance
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account
from billow.marketing.promos.models import Promotion, PromotionDiscount
from billow.services import actions as services
from billow.services.modules.dummy import reset_store

T0 = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def db_counts() -> dict[str, Any]:
    """Row counts of every table that checkout writes, plus balances: a refusal leaves these."""
    state: dict[str, Any] = {}
    for label in ("orders", "marketing", "invoicing", "billing", "ledger", "services"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.db_table] = model.objects.count()
    state["balances"] = sorted(LedgerAccount.objects.values_list("id", "balance_minor"))
    state["uses"] = sorted(Promotion.objects.values_list("id", "uses"))
    return state


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    reset_store()
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        with clock.use_clock(clock.FixedClock(T0)):
            yield
    finally:
        HUEY.flush()
        HUEY.immediate = previous
        reset_store()


class Shop:
    def __init__(self) -> None:
        if not Currency.objects.filter(code="USD").exists():
            catalog.create_currency(code="USD", name="US dollar", symbol="$")
        self.provider = Provider.objects.create(name="Cloudy", code="cloudy", email="b@cloudy.test")
        self.vps = catalog.create_product_type(name="VPS", intname="vps")
        catalog.add_product_type_parameter(
            product_type=self.vps,
            name="Operating system",
            intname="os",
            values=[("debian-12", "Debian 12"), ("ubuntu-24.04", "Ubuntu 24.04")],
        )
        self.tariff = self.make_tariff("VPS-S", 1000)
        services.create_module_instance(module="dummy", name="dummy-1", product_types=[self.vps])

    def make_tariff(self, name: str, price: int) -> Tariff:
        t = catalog.create_tariff(provider_id=self.provider.pk, product_type=self.vps, name=name)
        catalog.set_tariff_price(tariff=t, period="1m", currency="USD", amount_minor=price)
        catalog.create_addon(
            tariff=t,
            name="CPU",
            intname="cpu",
            unit="vCPU",
            value_type="int",
            billing_type="on_order",
            currency="USD",
            unit_price_minor=300,
            included=1,
            min_value=1,
            max_value=16,
            step=1,
        )
        return t

    def client(self, balance: int = 0, n: int = 0) -> Client:
        c = Client.objects.create(name=f"Ann {n}", email=f"ann{n}@example.com", country="DE")
        c.providers.add(self.provider)
        if balance:
            self.topup(c, balance)
        return c

    def wallet(self, client: Client) -> LedgerAccount:
        return get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE, currency="USD", client=client, provider=self.provider
        )

    def topup(self, client: Client, amount: int) -> None:
        adjust_client_balance(
            account=self.wallet(client),
            amount_minor=amount,
            direction="credit",
            reason="top-up",
            nonce=f"t{client.pk}-{amount}-{LedgerAccount.objects.count()}",
        )

    def balance(self, client: Client) -> int:
        return LedgerAccount.objects.get(pk=self.wallet(client).pk).balance_minor

    def promotion(self, percent: str = "20", **kw: Any) -> Promotion:
        p = Promotion.objects.create(provider=self.provider, name="Spring", **kw)
        PromotionDiscount.objects.create(promotion=p, target="all", kind="percent", percent=percent)
        return p


@pytest.fixture
def shop(db: Any) -> Shop:
    return Shop()
