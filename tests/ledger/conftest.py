"""Ledger fixtures: a provider, clients and their accounts."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from billow.accounts.models import Client, Provider
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account

_seq = itertools.count(1)


@pytest.fixture
def provider(db: None) -> Provider:
    return Provider.objects.create(name="Acme Hosting", code="acme")


@pytest.fixture
def make_client(db: None) -> Callable[..., Client]:
    def make(name: str = "") -> Client:
        n = next(_seq)
        return Client.objects.create(name=name or f"Client {n}", email=f"c{n}@example.com")

    return make


@pytest.fixture
def make_account(
    provider: Provider, make_client: Callable[..., Client]
) -> Callable[..., LedgerAccount]:
    """A client balance (default) or a provider-owned account in the given currency."""

    def make(kind: str = AccountKind.CLIENT_BALANCE, currency: str = "USD") -> LedgerAccount:
        if kind in (AccountKind.CLIENT_BALANCE, AccountKind.CLIENT_BONUS):
            return get_or_create_account(
                kind=kind, currency=currency, client=make_client(), provider=provider
            )
        return get_or_create_account(kind=kind, currency=currency, provider=provider)

    return make


@pytest.fixture
def wallet(make_account: Callable[..., LedgerAccount]) -> LedgerAccount:
    return make_account()


@pytest.fixture
def revenue(make_account: Callable[..., LedgerAccount]) -> LedgerAccount:
    return make_account(AccountKind.PROVIDER_REVENUE)


@pytest.fixture
def clearing(make_account: Callable[..., LedgerAccount]) -> LedgerAccount:
    return make_account(AccountKind.GATEWAY_CLEARING)
