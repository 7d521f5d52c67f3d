"""A small client-area world: one provider, a VPS tariff (+ a bigger one) with a RAM addon,
client A (owner + a user without permissions, a service, a payer, a balance) and client B."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from billow.accounts import actions as accounts
from billow.accounts.models import Client, ClientUser, Payer
from billow.catalog import actions as catalog
from billow.catalog.choices import BillingType, ValueType
from billow.catalog.models import Tariff
from billow.services.models import Service
from tests.billing.world import World

PASSWORD = "correct-horse-battery-9"


@dataclass
class Side:
    client: Client
    owner: User
    service: Service
    payer: Payer
    http: HttpClient


@dataclass
class WebWorld:
    world: World
    tariff: Tariff
    bigger: Tariff
    a: Side
    b: Side
    limited: ClientUser  # a user of client A without any permission
    limited_http: HttpClient


def login(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


def make_side(w: World, tariff: Tariff, email: str, balance: int) -> Side:
    client = accounts.create_client(email=email, providers=[w.provider], password=PASSWORD)
    owner = client.users.get(is_owner=True).user
    EmailAddress.objects.create(user=owner, email=email, primary=True, verified=True)
    if balance:
        w.topup(client, balance)
    service = w.service(client, tariff, date(2025, 1, 10), name="web-1")
    payer = accounts.create_payer(client=client, kind="individual", name="Ann Payer")
    return Side(client, owner, service, payer, login(owner))


@pytest.fixture
def web(db: None) -> WebWorld:
    w = World()
    tariff = w.tariff("VPS S", {"1m": 1000, "12m": 10000})
    bigger = w.tariff("VPS L", {"1m": 3000, "12m": 30000})
    for t in (tariff, bigger):
        catalog.create_addon(
            tariff=t,
            intname="ram",
            name="RAM",
            unit="GB",
            value_type=ValueType.INT,
            billing_type=BillingType.ON_ORDER,
            currency="USD",
            unit_price_minor=200,
            included=1,
            min_value=1,
            max_value=16,
            default_value=1,
        )
    a = make_side(w, tariff, "owner-a@example.com", 50000)
    b = make_side(w, tariff, "owner-b@example.com", 50000)
    limited = accounts.add_client_user(
        client=a.client, email="limited-a@example.com", password=PASSWORD
    )
    return WebWorld(w, tariff, bigger, a, b, limited, login(limited.user))
