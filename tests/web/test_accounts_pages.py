"""Users & permissions, payers, the billing statement and its CSV."""

from __future__ import annotations

import csv
import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import mail

from billow.accounts.models import ClientUser, Payer
from billow.ledger.models import LedgerEntry
from tests.web.conftest import WebWorld
from tests.web.test_access import db_state

pytestmark = pytest.mark.django_db


def test_the_owner_invites_a_user_with_permissions(web: WebWorld) -> None:
    response = web.a.http.post(
        "/users/invite/", {"email": "Helper@Example.com", "permissions": ["billing", "services"]}
    )
    assert response.status_code == 302
    invited = ClientUser.objects.get(user__email="helper@example.com")
    assert (invited.client_id, invited.is_owner, invited.permissions) == (
        web.a.client.pk,
        False,
        ["billing", "services"],
    )
    assert invited.user.has_usable_password() is False
    assert EmailAddress.objects.filter(user=invited.user, verified=False).count() == 1
    assert [m.to for m in mail.outbox] == [["helper@example.com"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_inviting_a_taken_email_is_refused_and_changes_nothing(web: WebWorld) -> None:
    before = db_state()
    response = web.a.http.post("/users/invite/", {"email": "owner-b@example.com"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert db_state() == before
    assert mail.outbox == []


def test_the_owner_sets_and_removes_a_users_permissions(web: WebWorld) -> None:
    web.a.http.post(f"/users/{web.limited.pk}/", {"permissions": ["payers"]})
    assert ClientUser.objects.get(pk=web.limited.pk).permissions == ["payers"]
    web.a.http.post(f"/users/{web.limited.pk}/remove/")
    assert not ClientUser.objects.filter(pk=web.limited.pk).exists()
    assert not User.objects.filter(email="limited-a@example.com").exists()


def test_the_owner_cannot_be_edited_or_removed(web: WebWorld) -> None:
    from billow.accounts.actions import set_client_user_permissions

    set_client_user_permissions(client_user=web.limited, permissions=["users"])
    owner = ClientUser.objects.get(client=web.a.client, is_owner=True)
    before = db_state()
    assert web.limited_http.post(f"/users/{owner.pk}/", {"permissions": []}).status_code == 403
    assert web.limited_http.post(f"/users/{owner.pk}/remove/").status_code == 403
    assert db_state() == before


def test_adding_a_payer(web: WebWorld) -> None:
    data = {
        "kind": "company",
        "name": "Acme Ltd",
        "legal_country": "de",
        "document_delivery": "email",
    }
    response = web.a.http.post("/payers/new/", data)
    assert response.status_code == 302
    payer = Payer.objects.get(client=web.a.client, name="Acme Ltd")
    assert (payer.kind, payer.legal_country) == ("company", "DE")


def test_an_invalid_payer_shows_the_error_and_creates_nothing(web: WebWorld) -> None:
    before = db_state()
    data = {"kind": "company", "name": "", "document_delivery": "email"}
    response = web.a.http.post("/payers/new/", data)
    assert response.status_code == 200
    assert 'class="field has-error"' in response.content.decode()
    assert db_state() == before


def test_editing_a_payer(web: WebWorld) -> None:
    data = {"kind": "individual", "name": "Ann Renamed", "document_delivery": "post"}
    web.a.http.post(f"/payers/{web.a.payer.pk}/", data)
    payer = Payer.objects.get(pk=web.a.payer.pk)
    assert (payer.name, payer.document_delivery) == ("Ann Renamed", "post")


def test_the_statement_lists_the_clients_entries_only(web: WebWorld) -> None:
    html = web.a.http.get("/billing/").content.decode()
    assert "$490.00" in html  # balance: 500.00 top-up - 10.00 opening charge
    assert "-$10.00" in html and "$500.00" in html


def test_the_csv_export_has_exact_amounts(web: WebWorld) -> None:
    response = web.a.http.get("/billing/statement.csv")
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0] == (
        "date,kind,description,amount,currency,balance,entry_id,transaction_id"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    # in date order: the opening charge (January 2025), then the top-up (today)
    assert [(r["amount"], r["balance"]) for r in rows] == [
        ("-10.00", "-10.00"),
        ("500.00", "490.00"),
    ]
    ids = {int(r["entry_id"]) for r in rows}
    assert (
        set(LedgerEntry.objects.filter(account__client=web.a.client).values_list("id", flat=True))
        == ids
    )
