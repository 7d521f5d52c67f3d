from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from billow.accounts import actions
from billow.accounts.models import (
    AccountEvent,
    Client,
    ClientGroupMembership,
    ClientUser,
    Payer,
)

from .conftest import table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_account, group):
    """One row of every accounts model."""
    actions.add_client_to_group(client=client_account, group=group)
    actions.add_client_user(client=client_account, email="m@example.com", permissions=["billing"])
    payer = actions.create_payer(
        client=client_account, kind="company", name="Example GmbH", legal_country="DE"
    )
    return {
        "provider": client_account.providers.get(),
        "client": client_account,
        "clientgroup": group,
        "clientuser": ClientUser.objects.get(is_owner=False),
        "payer": payer,
        "accountevent": AccountEvent.objects.first(),
    }


MODELS = ["provider", "client", "clientgroup", "clientuser", "payer", "accountevent"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_pages_render(admin_client, world, model):
    obj = world[model]
    changelist = admin_client.get(reverse(f"admin:accounts_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:accounts_{model}_change", args=[obj.pk]))
    assert (changelist.status_code, change.status_code) == (200, 200)
    assert obj in list(changelist.context["cl"].result_list)
    assert change.context["original"] == obj


@pytest.mark.parametrize("model", ["provider", "client", "clientgroup", "clientuser", "payer"])
def test_add_pages_render(admin_client, db, model):
    assert admin_client.get(reverse(f"admin:accounts_{model}_add")).status_code == 200


@pytest.mark.parametrize(
    "query", ["q=Example", "q=owner@example.com", "q=abc", "status__exact=inactive"]
)
def test_client_search_and_filters(admin_client, world, query):
    url = reverse("admin:accounts_client_changelist") + "?" + query
    response = admin_client.get(url)
    assert response.status_code == 200


def test_client_search_by_id(admin_client, world, provider):
    other = actions.create_client(email="zed@example.com", providers=[provider], name="Zed")
    url = reverse("admin:accounts_client_changelist") + f"?q={other.pk}"
    body = admin_client.get(url).content.decode()
    assert "Zed" in body
    assert "Example Ltd" not in body


def client_add_form(provider, **overrides):
    data = {
        "name": "Admin Made",
        "email": "made@example.com",
        "providers": [provider.pk],
        "language": "en",
        "country": "NL",
        "contact_person": "",
        "comment": "",
    }
    for prefix in ("users", "payers", "memberships"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data | overrides


def test_admin_add_client_creates_owner_through_the_action(admin_client, admin_user, provider):
    # when
    response = admin_client.post(reverse("admin:accounts_client_add"), client_add_form(provider))
    # then
    assert response.status_code == 302
    client = Client.objects.get(email="made@example.com")
    assert (client.name, client.country, client.status) == ("Admin Made", "NL", "inactive")
    assert client.registered_by_id == admin_user.pk
    assert list(client.providers.all()) == [provider]
    owner = ClientUser.objects.get(client=client)
    assert (owner.is_owner, owner.user.username) == (True, "made@example.com")
    assert AccountEvent.objects.get(type="client.created").actor_id == str(admin_user.pk)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "OWNER@example.com"}, "email"),
        ({"country": "XK"}, "country"),
        ({"language": "de"}, "language"),
        ({"providers": []}, "providers"),
    ],
)
def test_admin_add_client_refusal_shows_error_and_writes_nothing(
    admin_client, client_account, provider, overrides, field
):
    before = table_counts()
    form = client_add_form(provider, **overrides)
    response = admin_client.post(reverse("admin:accounts_client_add"), form)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert table_counts() == before


def payer_form(client, **overrides):
    data = {
        "client": client.pk,
        "kind": "company",
        "name": "Example GmbH",
        "contact_person": "",
        "phone": "",
        "fax": "",
        "email": "",
        "tax_id": "",
        "registration_number": "",
        "document_delivery": "email",
        "accounting_code": "",
        "invoice_generation": "advance",
        "legal_country": "DE",
        "legal_region": "",
        "legal_postcode": "",
        "legal_city": "",
        "legal_address": "",
        "country": "",
        "region": "",
        "postcode": "",
        "city": "",
        "address": "",
        "is_active": "on",
    }
    return data | overrides


def test_admin_add_payer(admin_client, client_account):
    response = admin_client.post(reverse("admin:accounts_payer_add"), payer_form(client_account))
    assert response.status_code == 302
    payer = Payer.objects.get()
    assert (payer.kind, payer.name, payer.legal_country) == ("company", "Example GmbH", "DE")
    assert AccountEvent.objects.get(type="payer.created").actor_kind == "staff"


def test_admin_change_payer_goes_through_update_payer(admin_client, world):
    payer = world["payer"]
    form = payer_form(payer.client, name="Renamed GmbH", legal_city="Bonn")
    url = reverse("admin:accounts_payer_change", args=[payer.pk])
    assert admin_client.post(url, form).status_code == 302
    payer.refresh_from_db()
    assert (payer.name, payer.legal_city) == ("Renamed GmbH", "Bonn")
    event = AccountEvent.objects.get(type="payer.updated")
    assert event.data == {"payer_id": payer.pk, "fields": ["legal_city", "name"]}


def test_admin_individual_payer_takes_contact_person_as_name(admin_client, client_account):
    form = payer_form(
        client_account, kind="individual", name="", contact_person="Jane", legal_country=""
    )
    response = admin_client.post(reverse("admin:accounts_payer_add"), form)
    assert response.status_code == 302
    assert Payer.objects.get().name == "Jane"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_country": ""}, "legal_country"),
        ({"name": ""}, "name"),
        ({"kind": "individual", "contact_person": "J", "fax": "123"}, "fax"),
    ],
)
def test_admin_payer_kind_rules_give_field_errors(admin_client, client_account, overrides, field):
    before = table_counts()
    form = payer_form(client_account, **overrides)
    response = admin_client.post(reverse("admin:accounts_payer_add"), form)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert table_counts() == before


def test_admin_client_user_unknown_permission_refused(admin_client, client_account):
    # given
    user = User.objects.create_user("x@example.com")
    before = table_counts()
    data = {
        "client": client_account.pk,
        "user": user.pk,
        "permissions": ["root"],
        "is_active": "on",
    }
    # when
    response = admin_client.post(reverse("admin:accounts_clientuser_add"), data)
    # then
    assert response.status_code == 200
    assert "permissions" in response.context["adminform"].form.errors
    assert table_counts() == before


def test_admin_client_user_permissions_saved_as_list(admin_client, world):
    member = world["clientuser"]
    data = {
        "client": member.client_id,
        "user": member.user_id,
        "permissions": ["users", "billing"],
        "is_active": "on",
    }
    url = reverse("admin:accounts_clientuser_change", args=[member.pk])
    assert admin_client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.permissions == ["billing", "users"]


def test_owner_cannot_be_deleted_in_admin(admin_client, client_account):
    owner = ClientUser.objects.get(is_owner=True)
    url = reverse("admin:accounts_clientuser_delete", args=[owner.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert ClientUser.objects.filter(pk=owner.pk).exists()


def test_activate_action_goes_through_the_action_layer(admin_client, world):
    client = world["client"]
    data = {"action": "activate_clients", "_selected_action": [client.pk]}
    response = admin_client.post(reverse("admin:accounts_client_changelist"), data)
    assert response.status_code == 302
    assert Client.objects.get(pk=client.pk).status == "active"
    assert AccountEvent.objects.filter(type="client.status_changed").count() == 1


def test_mark_verified_documents_action(admin_client, world):
    payer = world["payer"]
    data = {"action": "mark_verified_documents", "_selected_action": [payer.pk]}
    response = admin_client.post(reverse("admin:accounts_payer_changelist"), data)
    assert response.status_code == 302
    payer.refresh_from_db()
    assert (payer.verification_state, payer.verification_method) == ("verified", "documents")
    assert payer.verified_at is not None


def test_group_changelist_shows_member_count(admin_client, world):
    body = admin_client.get(reverse("admin:accounts_clientgroup_changelist")).content.decode()
    assert "Resellers" in body
    assert ClientGroupMembership.objects.count() == 1


def client_change_form(client, **overrides):
    owner = ClientUser.objects.get(client=client, is_owner=True)
    data = {
        "name": client.name,
        "providers": [p.pk for p in client.providers.all()],
        "language": client.language,
        "country": client.country,
        "contact_person": client.contact_person,
        "comment": "",
        "users-TOTAL_FORMS": "1",
        "users-INITIAL_FORMS": "1",
        "users-0-id": owner.pk,
        "users-0-client": client.pk,
        "users-0-user": owner.user_id,
        "users-0-is_active": "on",
        "payers-TOTAL_FORMS": "0",
        "payers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_admin_change_client_with_inline_payer_and_group(admin_client, client_account, group):
    # given
    url = reverse("admin:accounts_client_change", args=[client_account.pk])
    form = client_change_form(
        client_account,
        country="FR",
        **{
            "payers-TOTAL_FORMS": "1",
            "payers-0-kind": "individual",
            "payers-0-contact_person": "Jean",
            "payers-0-is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-group": group.pk,
            "memberships-0-source": "manual",
        },
    )
    # when
    response = admin_client.post(url, form)
    # then
    assert response.status_code == 302
    client_account.refresh_from_db()
    assert client_account.country == "FR"
    assert client_account.email == "owner@example.com"
    assert list(client_account.payers.values_list("kind", "name")) == [("individual", "Jean")]
    assert list(client_account.groups.all()) == [group]
    assert AccountEvent.objects.filter(type="client.group_added").count() == 1


def test_admin_inline_payer_rules_and_owner_deletion_refused(admin_client, client_account):
    url = reverse("admin:accounts_client_change", args=[client_account.pk])
    before = table_counts()
    bad_payer = {
        "payers-TOTAL_FORMS": "1",
        "payers-0-kind": "company",
        "payers-0-name": "No Country Ltd",
        "payers-0-is_active": "on",
    }
    owner_delete = {"users-0-DELETE": "on"}
    expected = {
        "a company or sole proprietor needs a legal address country": bad_payer,
        "The client&#x27;s owner can&#x27;t be removed.": owner_delete,
    }
    for message, overrides in expected.items():
        response = admin_client.post(url, client_change_form(client_account, **overrides))
        assert response.status_code == 200
        assert message in response.content.decode()
    assert table_counts() == before


def test_admin_group_inline_members_go_through_actions(admin_client, client_account, group):
    # given: the client is an automatic member
    membership = actions.add_client_to_group(client=client_account, group=group, source="auto")
    url = reverse("admin:accounts_clientgroup_change", args=[group.pk])
    form = {
        "name": group.name,
        "description": "",
        "allow_delete": "on",
        "referral_participation": "default",
        "mailing_segment": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": membership.pk,
        "memberships-0-group": group.pk,
        "memberships-0-client": client_account.pk,
        "memberships-0-source": "auto",
        "memberships-0-DELETE": "on",
    }
    # when: staff remove it
    response = admin_client.post(url, form)
    # then
    assert response.status_code == 302
    assert ClientGroupMembership.objects.count() == 0
    assert AccountEvent.objects.filter(type="client.group_removed").count() == 1
    # when: staff add it back as manual
    form |= {
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-id": "",
        "memberships-0-source": "manual",
    }
    del form["memberships-0-DELETE"]
    assert admin_client.post(url, form).status_code == 302
    assert ClientGroupMembership.objects.get().source == "manual"


def _provider_form(provider, **seller):
    data = {
        "name": provider.name,
        "code": provider.code,
        "default_currency": provider.default_currency,
        "email": "",
        "support_email": "",
        "site_url": "",
        "billing_url": "",
        "is_active": "on",
        "legal_name": "",
        "legal_address": "",
        "country": "",
        "tax_id": "",
        "registration_number": "",
        "bank_name": "",
        "iban": "",
        "bic": "",
        "bank_account": "",
    }
    return {**data, **seller}


def test_staff_edit_the_seller_details_of_invoices(admin_client, provider):
    url = reverse("admin:accounts_provider_change", args=[provider.pk])
    page = admin_client.get(url).content.decode()
    assert "Seller details on invoices" in page
    form = _provider_form(
        provider,
        legal_name="Acme Cloud GmbH",
        legal_address="Hauptstr. 1\n10115 Berlin",
        country="DE",
        tax_id="DE811907980",
        bank_name="Sparkasse",
        iban="de89 3704 0044 0532 0130 00",
        bic="cobadeffxxx",
    )
    response = admin_client.post(url, form)
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.legal_name, provider.country, provider.tax_id) == (
        "Acme Cloud GmbH",
        "DE",
        "DE811907980",
    )
    assert (provider.iban, provider.bic) == ("DE89370400440532013000", "COBADEFFXXX")
    assert provider.legal_address == "Hauptstr. 1\n10115 Berlin"


def test_a_bad_iban_is_refused_and_nothing_changes(admin_client, provider):
    url = reverse("admin:accounts_provider_change", args=[provider.pk])
    response = admin_client.post(
        url, _provider_form(provider, legal_name="Changed", iban="DE89370400440532013001")
    )
    assert response.status_code == 200
    assert "This IBAN is not valid." in response.content.decode()
    provider.refresh_from_db()
    assert (provider.legal_name, provider.iban) == ("", "")
