"""Two clients on two providers (A and B), each with an owner, a second user, a payer, an
active charged service, a notification and a token; plus a staff user."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from billow.accounts import actions as accounts
from billow.accounts.models import Client, ClientUser, Payer, PayerKind
from billow.api.actions import create_api_token
from billow.api.models import ApiToken
from billow.api.scopes import SCOPES
from billow.catalog.models import Tariff
from billow.core import clock
from billow.notifications.models import Notification
from billow.services.models import Service
from tests.billing.world import World

CLIENT_SCOPES = [s for s in SCOPES if not s.startswith("staff:")]
MONTH_PRICE = 1000


@dataclass
class Tenant:
    world: World
    client: Client
    owner: ClientUser
    member: ClientUser
    tariff: Tariff
    other_tariff: Tariff
    service: Service
    payer: Payer
    notification: Notification
    token: ApiToken
    raw_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    def api(self, scopes: list[str] | None = None) -> APIClient:
        """An API client authenticated with a fresh token of the owner (``scopes``: all)."""
        return bearer(self.owner.user, scopes or CLIENT_SCOPES)


def bearer(user: Any, scopes: list[str]) -> APIClient:
    _token, raw = create_api_token(user=user, name="test", scopes=scopes)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def make_tenant(name: str, balance: int = 50_000) -> Tenant:
    world = World()
    tariff = world.tariff(f"{name} Small", {"1m": MONTH_PRICE, "3m": 2900})
    other = world.tariff(f"{name} Big", {"1m": 3000, "3m": 8700})
    client = accounts.create_client(
        email=f"owner-{name.lower()}@example.com",
        name=f"Client {name}",
        providers=[world.provider],
        password="pw-123456",
    )
    world.topup(client, balance)
    owner = ClientUser.objects.get(client=client, is_owner=True)
    member = accounts.add_client_user(
        client=client, email=f"member-{name.lower()}@example.com", permissions=["services"]
    )
    opened = clock.now().date() - timedelta(days=5)
    service = world.service(client, tariff, opened, name=f"{name} vm")
    payer = accounts.create_payer(client=client, kind=PayerKind.INDIVIDUAL, name=f"{name} Payer")
    note = Notification.objects.create(
        client=client, event="test", title=f"Hello {name}", body="Body"
    )
    token, raw = create_api_token(user=owner.user, name=f"{name} key", scopes=CLIENT_SCOPES)
    return Tenant(world, client, owner, member, tariff, other, service, payer, note, token, raw)


@pytest.fixture(autouse=True)
def _clear_throttle_cache(db: Any) -> None:
    cache.clear()


@pytest.fixture
def tenant_a(db: Any) -> Tenant:
    return make_tenant("A")


@pytest.fixture
def tenant_b(db: Any) -> Tenant:
    return make_tenant("B")


@pytest.fixture
def staff_user(db: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456")
