"""Staff admin: the ledger is read-only; a balance adjustment posts once per form nonce."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client as HttpClient
from django.urls import reverse

from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from tests.ledger.helpers import balance_of, ledger_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: HttpClient) -> HttpClient:
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def _adjust_url(account: LedgerAccount) -> str:
    return reverse("admin:ledger_ledgeraccount_adjust", args=[account.pk])


def _nonce(html: str) -> str:
    match = re.search(r'name="nonce" value="([0-9a-f]{32})"', html)
    assert match, "the form carries a nonce"
    return match.group(1)


def test_ledger_pages_render_read_only(
    admin_client: HttpClient, wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    txn = post_transaction(kind="charge", legs=[(wallet, -5), (revenue, 5)], idempotency_key="k")
    entry = txn.entries.first()
    assert entry is not None
    for name, pk in [
        ("ledgeraccount", wallet.pk),
        ("ledgertransaction", txn.pk),
        ("ledgerentry", entry.pk),
    ]:
        assert admin_client.get(reverse(f"admin:ledger_{name}_changelist")).status_code == 200
        page = admin_client.get(reverse(f"admin:ledger_{name}_change", args=[pk]))
        assert page.status_code == 200
        assert admin_client.get(reverse(f"admin:ledger_{name}_add")).status_code == 403
        delete = admin_client.post(
            reverse(f"admin:ledger_{name}_delete", args=[pk]), {"post": "yes"}
        )
        assert delete.status_code == 403
    assert ledger_state()[0:2] == (1, 2)


def test_adjustment_posts_once_per_nonce(admin_client: HttpClient, wallet: LedgerAccount) -> None:
    # given the adjustment form for a client balance
    page = admin_client.get(_adjust_url(wallet))
    assert page.status_code == 200
    data = {
        "amount": "12.50",
        "direction": "credit",
        "reason": "goodwill",
        "nonce": _nonce(page.content.decode()),
    }
    # when it is submitted twice
    first = admin_client.post(_adjust_url(wallet), data)
    second = admin_client.post(_adjust_url(wallet), data)
    # then one transaction credits the wallet against the provider's adjustments account
    assert first.status_code == second.status_code == 302
    txn = LedgerTransaction.objects.get()
    house = LedgerAccount.objects.get(kind=AccountKind.ADJUSTMENTS)
    assert (txn.kind, txn.memo, txn.actor_kind) == ("adjustment", "goodwill", "staff")
    assert (house.provider_id, house.client_id, house.currency) == (wallet.provider_id, None, "USD")
    assert balance_of(wallet) == 1250
    assert balance_of(house) == -1250


def test_debit_adjustment(admin_client: HttpClient, wallet: LedgerAccount) -> None:
    data = {"amount": "3", "direction": "debit", "reason": "chargeback fee", "nonce": "a" * 32}
    assert admin_client.post(_adjust_url(wallet), data).status_code == 302
    assert balance_of(wallet) == -300


@pytest.mark.parametrize(
    "bad",
    [
        {"reason": "   "},
        {"amount": "0"},
        {"amount": "-1"},
        {"amount": "1.005"},
        {"direction": "sideways"},
    ],
)
def test_invalid_adjustment_writes_nothing(
    bad: dict[str, str], admin_client: HttpClient, wallet: LedgerAccount
) -> None:
    data = {"amount": "1", "direction": "credit", "reason": "r", "nonce": "b" * 32, **bad}
    before = ledger_state()
    response = admin_client.post(_adjust_url(wallet), data)
    assert response.status_code == 200  # the form again, with errors
    assert response.context["form"].errors
    assert ledger_state() == before


def test_adjustment_needs_the_permission(client: HttpClient, wallet: LedgerAccount) -> None:
    staff = User.objects.create_user("clerk", password="pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_ledgeraccount"))
    client.force_login(staff)
    data = {"amount": "1", "direction": "credit", "reason": "r", "nonce": "c" * 32}
    assert client.post(_adjust_url(wallet), data).status_code == 403
    assert LedgerTransaction.objects.count() == 0
    staff.user_permissions.add(Permission.objects.get(codename="adjust_balance"))
    staff = User.objects.get(pk=staff.pk)  # drop the permission cache
    client.force_login(staff)
    assert client.post(_adjust_url(wallet), data).status_code == 302
    assert balance_of(wallet) == 100


def test_changelist_action_redirects_for_one_client_balance(
    admin_client: HttpClient, wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    url = reverse("admin:ledger_ledgeraccount_changelist")
    one = admin_client.post(
        url, {"action": "adjust_balance_action", "_selected_action": [wallet.pk]}
    )
    assert one.status_code == 302
    assert one["Location"] == _adjust_url(wallet)
    other = admin_client.post(
        url, {"action": "adjust_balance_action", "_selected_action": [revenue.pk]}, follow=True
    )
    assert "Select exactly one client balance account." in other.content.decode()
    assert admin_client.get(_adjust_url(revenue)).status_code == 404
