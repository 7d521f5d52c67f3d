"""Staff admin: the program (switching it on creates the accounts), rules, and a client's bonus
account with a manual accrual / deduction (reason and staff user on the movement, once per
nonce; a refusal writes nothing)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from billow.marketing.bonus.actions import ensure_bonus_account
from billow.marketing.bonus.models import BonusAccount, BonusMovement, BonusProgram
from tests.billing.world import World
from tests.marketing.bonus_world import program

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def admin_client(client: HttpClient) -> HttpClient:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _nonce(html: str) -> str:
    found = re.search(r'name="nonce" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_switching_the_program_on_in_the_admin_creates_accounts(admin_client: HttpClient) -> None:
    world = World()
    client = world.client()
    client.providers.add(world.provider)
    response = admin_client.post(
        "/admin/marketing/bonusprogram/add/",
        {
            "provider": world.provider.pk,
            "enabled": "on",
            "name": "Club",
            "bonus_names": '{"en": "Club points"}',
            "consent_required": "",
            "consent_version": "1",
            "max_share_percent": "30",
            "expiry_months": "6",
            "welcome_enabled": "on",
            "welcome_points": "150",
            "values-TOTAL_FORMS": "1",
            "values-INITIAL_FORMS": "0",
            "values-0-currency": "USD",
            "values-0-minor_per_point": "1",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert BonusProgram.objects.get(provider=world.provider).enabled
    account = BonusAccount.objects.get(client=client)
    assert account.balance_points == 150
    for url in ("bonusprogram", "bonusrule", "bonusaccount", "bonusmovement", "bonustariffgroup"):
        assert admin_client.get(f"/admin/marketing/{url}/").status_code == 200
    assert (
        admin_client.get(f"/admin/marketing/bonusaccount/{account.pk}/change/").status_code == 200
    )


def test_manual_accrual_and_deduction_with_a_reason(admin_client: HttpClient) -> None:
    world = World()
    client = world.client()
    client.providers.add(world.provider)
    program(world, max_share_percent=Decimal(10))
    account = ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    assert account is not None
    url = f"/admin/marketing/bonusaccount/{account.pk}/adjust/"
    nonce = _nonce(admin_client.get(url).content.decode())
    data = {"direction": "accrual", "points": "120", "reason": "outage apology", "nonce": nonce}
    assert admin_client.post(url, data).status_code == 302
    assert admin_client.post(url, data).status_code == 302  # the same form again: once
    move = BonusMovement.objects.get(account=account)
    root = User.objects.get(username="root")
    assert (move.kind, move.points, move.reason) == ("manual_accrual", 120, "outage apology")
    assert (move.actor_kind, move.actor_id) == ("staff", str(root.pk))
    # a deduction of more than there is: refused, nothing written
    nonce = _nonce(admin_client.get(url).content.decode())
    bad = {"direction": "deduction", "points": "121", "reason": "abuse", "nonce": nonce}
    page = admin_client.post(url, bad).content.decode()
    assert "insufficient_bonus_points" in page
    assert BonusMovement.objects.count() == 1
    account.refresh_from_db()
    assert account.balance_points == 120
