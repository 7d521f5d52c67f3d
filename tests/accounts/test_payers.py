from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from billow.accounts import actions
from billow.accounts.models import AccountEvent, Payer
from billow.core.errors import BillowError

from .conftest import T0, table_counts

pytestmark = pytest.mark.django_db


def company(client_account, **overrides):
    fields = {
        "name": "Example GmbH",
        "legal_country": "de",
        "legal_city": "Berlin",
        "tax_id": "DE123456789",
        **overrides,
    }
    return actions.create_payer(client=client_account, kind="company", **fields)


def test_create_company_payer(client_account):
    # when
    payer = company(client_account, email="acc@example.de", country=" at ")
    # then
    payer.refresh_from_db()
    assert (payer.kind, payer.name, payer.tax_id) == ("company", "Example GmbH", "DE123456789")
    assert (payer.legal_country, payer.legal_city, payer.country) == ("DE", "Berlin", "AT")
    assert (payer.verification_state, payer.verification_method) == ("unverified", "")
    assert payer.verified_at is None
    event = AccountEvent.objects.get(type="payer.created")
    assert (event.client_id, event.data) == (
        client_account.pk,
        {"payer_id": payer.pk, "kind": "company", "name": "Example GmbH"},
    )


def test_create_sole_proprietor_payer(client_account):
    payer = actions.create_payer(
        client=client_account, kind="sole_proprietor", name="IP Ivanov", legal_country="RU"
    )
    assert (payer.kind, payer.name, payer.legal_country) == ("sole_proprietor", "IP Ivanov", "RU")


def test_individual_name_is_the_persons_name(client_account):
    # when
    payer = actions.create_payer(
        client=client_account, kind="individual", contact_person="Jane Doe", country="fr"
    )
    # then
    payer.refresh_from_db()
    assert (payer.name, payer.contact_person, payer.country) == ("Jane Doe", "Jane Doe", "FR")
    assert payer.legal_country == ""


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        ("company", {"legal_country": "DE"}, {"name"}),
        ("company", {"name": "X"}, {"legal_country"}),
        ("sole_proprietor", {}, {"name", "legal_country"}),
        ("company", {"name": "X", "legal_country": "QQ"}, {"legal_country"}),
        ("company", {"name": "X", "legal_country": "DE", "country": "EU"}, {"country"}),
        ("individual", {}, {"name"}),
        ("individual", {"name": "J", "legal_country": "DE", "fax": "1"}, {"legal_country", "fax"}),
        ("company", {"name": "X", "legal_country": "DE", "email": "nope"}, {"email"}),
        (
            "company",
            {"name": "X", "legal_country": "DE", "document_delivery": "pigeon"},
            {"document_delivery"},
        ),
        ("company", {"name": "X", "legal_country": "DE", "colour": "red"}, {"colour"}),
        ("robot", {"name": "X"}, {"kind"}),
    ],
)
def test_create_payer_refusals_write_nothing(client_account, kind, fields, expected):
    # given
    before = table_counts()
    # when
    with pytest.raises(BillowError) as exc:
        actions.create_payer(client=client_account, kind=kind, **fields)
    # then
    assert exc.value.code == "payer_invalid"
    assert set(exc.value.details["fields"]) == expected
    assert table_counts() == before


def test_update_payer_checks_the_result(client_account):
    # given
    payer = company(client_account)
    # when
    actions.update_payer(payer=payer, name="Example AG", legal_country="ch", phone=" +41 1 ")
    # then
    payer.refresh_from_db()
    assert (payer.name, payer.legal_country, payer.phone) == ("Example AG", "CH", "+41 1")
    event = AccountEvent.objects.get(type="payer.updated")
    assert event.data == {"payer_id": payer.pk, "fields": ["legal_country", "name", "phone"]}


def test_update_payer_to_individual_needs_legal_address_cleared(client_account):
    # given
    payer = company(client_account)
    before = table_counts()
    # when
    with pytest.raises(BillowError) as exc:
        actions.update_payer(payer=payer, kind="individual")
    # then
    assert exc.value.code == "payer_invalid"
    assert set(exc.value.details["fields"]) == {"legal_country", "legal_city"}
    assert table_counts() == before
    assert payer.kind == "company"  # the in-memory object is reloaded
    assert Payer.objects.get().kind == "company"


@pytest.mark.parametrize(
    "changes",
    [{"name": ""}, {"legal_country": "XX"}, {"verification_state": "verified"}],
)
def test_update_payer_refusals_change_nothing(client_account, changes):
    payer = company(client_account)
    before = table_counts()
    with pytest.raises(BillowError) as exc:
        actions.update_payer(payer=payer, **changes)
    assert exc.value.code == "payer_invalid"
    assert table_counts() == before
    stored = Payer.objects.get()
    assert (stored.name, stored.legal_country, stored.verification_state) == (
        "Example GmbH",
        "DE",
        "unverified",
    )


def test_set_payer_verification_verified_and_back(client_account):
    # given
    payer = company(client_account)
    # when
    actions.set_payer_verification(payer=payer, state="verified", method="documents", now=T0)
    # then
    payer.refresh_from_db()
    assert (payer.verification_state, payer.verification_method) == ("verified", "documents")
    assert payer.verified_at == T0
    # when
    actions.set_payer_verification(payer=payer, state="unverified", method="documents")
    # then
    payer.refresh_from_db()
    assert (payer.verification_state, payer.verification_method, payer.verified_at) == (
        "unverified",
        "",
        None,
    )
    events = AccountEvent.objects.filter(type="payer.verification_set").order_by("id")
    assert [e.data["state"] for e in events] == ["verified", "unverified"]


def test_pending_keeps_method_without_time(client_account):
    payer = company(client_account)
    actions.set_payer_verification(payer=payer, state="pending", method="email")
    payer.refresh_from_db()
    assert (payer.verification_state, payer.verification_method, payer.verified_at) == (
        "pending",
        "email",
        None,
    )


@pytest.mark.parametrize(
    ("state", "method", "code"),
    [
        ("verified", "", "verification_method_required"),
        ("approved", "documents", "unknown_verification_state"),
        ("verified", "telepathy", "unknown_verification_method"),
    ],
)
def test_set_payer_verification_refusals(client_account, state, method, code):
    payer = company(client_account)
    before = table_counts()
    with pytest.raises(BillowError) as exc:
        actions.set_payer_verification(payer=payer, state=state, method=method)
    assert exc.value.code == code
    assert table_counts() == before
    assert Payer.objects.get().verification_state == "unverified"


@pytest.mark.parametrize(
    "values",
    [
        {"verification_state": "verified", "verification_method": "email", "verified_at": None},
        {"verification_state": "verified", "verification_method": "", "verified_at": T0},
        {"verification_state": "pending", "verification_method": "email", "verified_at": T0},
        {"kind": "robot"},
    ],
)
def test_database_refuses_inconsistent_payer_rows(client_account, values):
    payer = company(client_account)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payer.objects.filter(pk=payer.pk).update(**values)
    assert Payer.objects.get().verified_at is None


def test_verified_at_follows_now(client_account):
    payer = company(client_account)
    later = T0 + timedelta(days=3)
    actions.set_payer_verification(payer=payer, state="verified", method="phone", now=later)
    assert Payer.objects.get().verified_at == later
