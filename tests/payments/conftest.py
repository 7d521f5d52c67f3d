"""Payments fixtures: a provider, a client, methods for every built-in gateway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps

from billow.accounts import actions as accounts
from billow.accounts.models import Client, Provider
from billow.ledger.models import AccountKind, LedgerAccount
from billow.payments import actions, hooks
from billow.payments.models import PaymentMethod

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SANDBOX_SECRET = "sbx_whsec_test"
STRIPE_SECRET = "whsec_test_secret"


@pytest.fixture
def provider(db: Any) -> Provider:
    return accounts.create_provider(name="Acme Cloud", code="acme", default_currency="USD")


@pytest.fixture
def client_account(provider: Provider) -> Client:
    return accounts.create_client(
        email="owner@example.com", providers=[provider], name="Example Ltd", now=T0
    )


def make_method(
    provider: Provider,
    gateway: str,
    *,
    secrets: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
    **fields: Any,
) -> PaymentMethod:
    method = PaymentMethod(
        provider=provider,
        gateway=gateway,
        name=fields.pop("name", gateway),
        currency=fields.pop("currency", "USD"),
        **fields,
    )
    return actions.configure_payment_method(
        method=method, config=config or {}, secrets=secrets or {}
    )


@pytest.fixture
def sandbox(provider: Provider) -> PaymentMethod:
    return make_method(
        provider,
        "sandbox",
        secrets={"webhook_secret": SANDBOX_SECRET},
        supports_refunds=True,
        supports_recurring=True,
    )


@pytest.fixture
def bank(provider: Provider) -> PaymentMethod:
    return make_method(
        provider,
        "bank_transfer",
        config={"bank_details": "IBAN DE00 1234"},
        supports_refunds=True,
        fee_fixed_minor=50,
    )


@pytest.fixture
def stripe_method(provider: Provider) -> PaymentMethod:
    return make_method(
        provider,
        "stripe",
        secrets={"secret_key": "sk_test_123", "webhook_secret": STRIPE_SECRET},
        config={
            "success_url": "https://billing.example.com/pay/{payment_id}/ok",
            "cancel_url": "https://billing.example.com/pay/{payment_id}/cancel",
        },
        supports_refunds=True,
        supports_recurring=True,
        fee_percent=Decimal("2.9"),
        fee_fixed_minor=30,
    )


@pytest.fixture
def yookassa_method(provider: Provider) -> PaymentMethod:
    return make_method(
        provider,
        "yookassa",
        secrets={"secret_key": "test_secret"},
        currency="RUB",
        config={"shop_id": "123456", "return_url": "https://billing.example.com/r/{payment_id}"},
        supports_refunds=True,
        supports_recurring=True,
    )


def balance(client: Client, currency: str = "USD") -> int:
    account = LedgerAccount.objects.filter(
        kind=AccountKind.CLIENT_BALANCE, client=client, currency=currency
    ).first()
    return 0 if account is None else account.balance_minor


def db_state() -> dict[str, Any]:
    """Row counts of payments and ledger tables plus every payment's status and balances."""
    from billow.payments.models import Payment

    state: dict[str, Any] = {}
    for label in ("payments", "ledger"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.db_table] = model.objects.count()
    state["payments"] = sorted(
        Payment.objects.values_list("id", "status", "refunded_minor", "gateway_reference")
    )
    state["balances"] = sorted(LedgerAccount.objects.values_list("id", "balance_minor"))
    return state


class HookRecorder:
    def __init__(self) -> None:
        self.credited: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []

    def on_credit(self, **kwargs: Any) -> None:
        self.credited.append(kwargs)

    def on_fail(self, **kwargs: Any) -> None:
        self.failed.append(kwargs)


@pytest.fixture
def recorded_hooks() -> Iterator[HookRecorder]:
    rec = HookRecorder()
    hooks.on_balance_credited(rec.on_credit)
    hooks.on_payment_failed(rec.on_fail)
    yield rec
    hooks.remove_hook(rec.on_credit)
    hooks.remove_hook(rec.on_fail)
