"""A small billing world for tests: a provider, a product type, tariffs, clients with balances,
services opened on a date, and the billing run called for any date (time travel)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from typing import Any

from django.apps import apps

from billow.accounts.models import Client, Provider
from billow.billing.actions import charge_opening
from billow.billing.models import BillingRun, Expense
from billow.billing.run import run_billing
from billow.catalog import actions as catalog
from billow.catalog.models import ProductType, Tariff
from billow.catalog.models.currency import Currency
from billow.ledger.actions import adjust_client_balance
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account
from billow.services.models import Service, ServiceEvent
from billow.services.states import ServiceStatus

_seq = itertools.count(1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def db_state() -> dict[str, Any]:
    """Row counts of billing, ledger and service tables plus every service and balance: equal
    before and after a refused operation."""
    state: dict[str, Any] = {}
    for label in ("billing", "ledger", "services"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.db_table] = model.objects.count()
    state["services"] = sorted(
        Service.objects.values_list(
            "id", "status", "paid_until", "tariff_id", "delete_at_period_end"
        )
    )
    state["addons"] = sorted(
        (i, repr(v)) for i, v in Service.objects.values_list("id", "addon_values")
    )
    state["balances"] = sorted(LedgerAccount.objects.values_list("id", "balance_minor"))
    return state


class World:
    def __init__(self, **product_type: Any) -> None:
        n = next(_seq)
        if not Currency.objects.filter(code="USD").exists():
            catalog.create_currency(code="USD", name="US dollar", symbol="$")
        self.provider = Provider.objects.create(name=f"Host {n}", code=f"host{n}")
        self.product_type = catalog.create_product_type(
            name=f"VPS {n}", intname=f"vps{n}", **product_type
        )

    def set_product_type(self, **fields: Any) -> ProductType:
        ProductType.objects.filter(pk=self.product_type.pk).update(**fields)
        self.product_type.refresh_from_db()
        return self.product_type

    def tariff(
        self,
        name: str,
        prices: dict[str, int],
        *,
        billing_mode: str = "anniversary",
        prorata_day: int = 1,
        provider: Provider | None = None,
        product_type: ProductType | None = None,
        setup_fee_minor: int = 0,
    ) -> Tariff:
        t = catalog.create_tariff(
            provider_id=(provider or self.provider).pk,
            product_type=product_type or self.product_type,
            name=name,
            billing_mode=billing_mode,
            prorata_day=prorata_day,
        )
        for period, amount in prices.items():
            catalog.set_tariff_price(
                tariff=t,
                period=period,
                currency="USD",
                amount_minor=amount,
                setup_fee_minor=setup_fee_minor,
            )
        return t

    def client(self, balance: int = 0) -> Client:
        n = next(_seq)
        client = Client.objects.create(name=f"Client {n}", email=f"c{n}@example.com")
        if balance:
            self.topup(client, balance)
        return client

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
            nonce=f"topup-{next(_seq)}",
        )

    def set_balance(self, client: Client, amount: int) -> None:
        """Move the client's balance to ``amount`` (a staff adjustment either way)."""
        delta = amount - self.balance(client)
        if delta:
            adjust_client_balance(
                account=self.wallet(client),
                amount_minor=abs(delta),
                direction="credit" if delta > 0 else "debit",
                reason="adjustment",
                nonce=f"set-{next(_seq)}",
            )

    def balance(self, client: Client) -> int:
        return LedgerAccount.objects.values_list("balance_minor", flat=True).get(
            pk=self.wallet(client).pk
        )

    def service(
        self,
        client: Client,
        tariff: Tariff,
        opened: date,
        *,
        period: str = "1m",
        auto_renew: str | None = None,
        addon_values: dict[str, Any] | None = None,
        charge: bool = True,
        **fields: Any,
    ) -> Service:
        s = Service.objects.create(
            client=client,
            provider=tariff.provider,
            tariff=tariff,
            period=period,
            currency="USD",
            billing_mode=tariff.billing_mode,
            prorata_day=tariff.prorata_day,
            status=ServiceStatus.ACTIVE,
            auto_renew_period=period if auto_renew is None else auto_renew,
            addon_values=addon_values or {},
            ordered_at=at(opened, 9),
            opened_at=at(opened, 9),
            **fields,
        )
        if charge:
            charge_opening(service=s, start=opened, now=at(opened))
        s.refresh_from_db()
        return s

    def bill(self, day: date) -> BillingRun:
        return run_billing(day=day, now=at(day, 0))

    @staticmethod
    def expenses(service: Service) -> list[tuple[str, date, date, int]]:
        return [
            (e.kind, e.period_from, e.period_to, e.amount_minor)
            for e in Expense.objects.filter(service=service).order_by("id")
        ]

    @staticmethod
    def events(service: Service) -> list[tuple[str, str, str]]:
        return list(
            ServiceEvent.objects.filter(service=service)
            .order_by("id")
            .values_list("type", "from_status", "to_status")
        )

    @staticmethod
    def refresh(service: Service) -> Service:
        service.refresh_from_db()
        return service
