"""Accounts fixtures: built through the actions, so tests start from states the app can reach."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billow.accounts import actions
from billow.accounts.models import Client, ClientGroup, Provider

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def provider(db) -> Provider:
    return actions.create_provider(name="Acme Cloud", code="acme", default_currency="EUR")


@pytest.fixture
def client_account(provider: Provider) -> Client:
    return actions.create_client(
        email="Owner@Example.com",
        providers=[provider],
        name="Example Ltd",
        language="ru",
        country="de",
        contact_person="Olga Owner",
        now=T0,
    )


@pytest.fixture
def group(db) -> ClientGroup:
    return ClientGroup.objects.create(name="Resellers")


def table_counts() -> dict[str, int]:
    """Row counts of every table accounts actions write to (for "nothing changed" checks)."""
    from django.contrib.auth.models import User

    from billow.accounts.models import (
        AccountEvent,
        ClientGroupMembership,
        ClientUser,
        Payer,
    )

    return {
        "users": User.objects.count(),
        "providers": Provider.objects.count(),
        "clients": Client.objects.count(),
        "client_users": ClientUser.objects.count(),
        "memberships": ClientGroupMembership.objects.count(),
        "payers": Payer.objects.count(),
        "events": AccountEvent.objects.count(),
    }
