from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from billow.accounts import actions
from billow.accounts.models import AccountEvent, Client, ClientUser
from billow.core.actors import Actor
from billow.core.errors import BillowError

from .conftest import T0, table_counts

pytestmark = pytest.mark.django_db


def test_create_provider_stores_normalized_values_and_an_event():
    # when
    provider = actions.create_provider(
        name=" Acme ", code="acme", default_currency="eur", email="billing@acme.test"
    )
    # then
    provider.refresh_from_db()
    assert (provider.name, provider.code, provider.default_currency) == ("Acme", "acme", "EUR")
    assert provider.email == "billing@acme.test"
    event = AccountEvent.objects.get()
    assert (event.type, event.actor_kind, event.client_id) == ("provider.created", "system", None)
    assert event.data == {"provider_id": provider.pk, "code": "acme"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": "Acme Cloud", "code": "other"}, "provider_exists"),
        ({"name": "Other", "code": "acme"}, "provider_exists"),
        ({"name": "Other", "code": "other", "default_currency": "XXX"}, "unknown_currency"),
        ({"name": "Other", "code": "not a slug"}, "provider_invalid"),
        ({"name": "", "code": "other"}, "provider_invalid"),
        ({"name": "Other", "code": "other", "site_url": "nope"}, "provider_invalid"),
    ],
)
def test_create_provider_refusals_write_nothing(provider, kwargs, code):
    # given
    before = table_counts()
    # when
    with pytest.raises(BillowError) as exc:
        actions.create_provider(**kwargs)
    # then
    assert exc.value.code == code
    assert table_counts() == before


def test_create_client_creates_owner_login_and_connects_providers(provider):
    # given
    second = actions.create_provider(name="Beta", code="beta")
    staff = User.objects.create_user("admin", "admin@billow.test", is_staff=True)
    # when
    client = actions.create_client(
        email="  Jane.Doe@Example.COM ",
        providers=[provider, second],
        language="es",
        country="es",
        contact_person="Jane Doe",
        comment="VIP",
        password="s3cret-pass",
        actor=Actor.staff(staff),
        now=T0,
    )
    # then
    client.refresh_from_db()
    assert client.name == "Jane Doe"
    assert client.email == "jane.doe@example.com"
    assert (client.status, client.language, client.country) == ("inactive", "es", "ES")
    assert client.comment == "VIP"
    assert client.created_at == T0
    assert client.registered_by_id == staff.pk
    assert sorted(client.providers.values_list("code", flat=True)) == ["acme", "beta"]
    owner = ClientUser.objects.get(client=client)
    assert owner.is_owner is True
    assert owner.user.username == "jane.doe@example.com"
    assert owner.user.email == "jane.doe@example.com"
    assert owner.user.check_password("s3cret-pass")
    assert owner.user.is_staff is False
    event = AccountEvent.objects.get(type="client.created")
    assert (event.client_id, event.actor_kind, event.actor_id) == (
        client.pk,
        "staff",
        str(staff.pk),
    )
    assert event.data == {
        "email": "jane.doe@example.com",
        "provider_ids": sorted([provider.pk, second.pk]),
    }


def test_create_client_without_password_or_name(provider):
    # when
    client = actions.create_client(email="x@example.com", providers=[provider])
    # then
    assert client.name == "x@example.com"
    assert client.registered_by_id is None
    assert client.users.get().user.has_usable_password() is False


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"email": "owner@example.com"}, "email_taken"),
        ({"email": "OWNER@example.COM"}, "email_taken"),
        ({"email": "not-an-email"}, "client_invalid"),
        ({"language": "de"}, "unknown_language"),
        ({"country": "XK"}, "unknown_country"),
        ({"country": "ZZ"}, "unknown_country"),
        ({"providers": []}, "provider_required"),
    ],
)
def test_create_client_refusals_write_nothing(client_account, provider, overrides, code):
    # given
    before = table_counts()
    kwargs = {"email": "new@example.com", "providers": [provider], **overrides}
    # when
    with pytest.raises(BillowError) as exc:
        actions.create_client(**kwargs)
    # then
    assert exc.value.code == code
    assert table_counts() == before


def test_email_of_an_existing_staff_login_is_taken(provider):
    # given
    User.objects.create_user("staffer", "ops@example.com", is_staff=True)
    before = table_counts()
    # when
    with pytest.raises(BillowError) as exc:
        actions.create_client(email="ops@example.com", providers=[provider])
    # then
    assert exc.value.code == "email_taken"
    assert table_counts() == before


def test_set_client_status_changes_and_is_idempotent(client_account):
    # when
    actions.set_client_status(client=client_account, status="active", now=T0)
    actions.set_client_status(client=client_account, status="active", now=T0)
    # then
    assert Client.objects.get().status == "active"
    events = AccountEvent.objects.filter(type="client.status_changed")
    assert [e.data for e in events] == [{"from": "inactive", "to": "active"}]


def test_set_client_status_unknown_refused(client_account):
    before = table_counts()
    with pytest.raises(BillowError) as exc:
        actions.set_client_status(client=client_account, status="frozen")
    assert exc.value.code == "unknown_client_status"
    assert table_counts() == before
    assert Client.objects.get().status == "inactive"


def test_create_provider_with_its_seller_block(db) -> None:
    from billow.accounts.models import Provider

    provider = actions.create_provider(
        name="Seller Co",
        code="seller",
        seller={
            "legal_name": "Seller Co GmbH",
            "country": "de",
            "iban": "de89 3704 0044 0532 0130 00",
        },
    )
    assert (provider.legal_name, provider.country, provider.iban) == (
        "Seller Co GmbH",
        "DE",
        "DE89370400440532013000",
    )
    for seller, code in (
        ({"iban": "DE89370400440532013001"}, "provider_invalid"),
        ({"colour": "blue"}, "provider_invalid"),
        ({"country": "XX"}, "unknown_country"),
    ):
        with pytest.raises(BillowError) as exc:
            actions.create_provider(name="Other", code="other", seller=seller)
        assert exc.value.code == code
    assert not Provider.objects.filter(code="other").exists()
