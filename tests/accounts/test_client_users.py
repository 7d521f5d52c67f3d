from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from billow.accounts import actions
from billow.accounts.models import AccountEvent, ClientUser
from billow.core.errors import BillowError

from .conftest import T0, table_counts

pytestmark = pytest.mark.django_db


def owner_of(client):
    return ClientUser.objects.get(client=client, is_owner=True)


def test_add_client_user_with_permissions(client_account):
    # when
    member = actions.add_client_user(
        client=client_account,
        email="Acc@Example.com",
        permissions=["payers", "billing", "billing"],
        password="pw-123456",
        now=T0,
    )
    # then
    member.refresh_from_db()
    assert (member.client_id, member.is_owner, member.is_active) == (client_account.pk, False, True)
    assert member.permissions == ["billing", "payers"]
    assert member.created_at == T0
    assert member.user.username == "acc@example.com"
    assert member.user.check_password("pw-123456")
    event = AccountEvent.objects.get(type="client_user.added")
    assert event.data == {
        "client_user_id": member.pk,
        "email": "acc@example.com",
        "permissions": ["billing", "payers"],
    }


def test_invite_client_user_has_no_usable_password(client_account):
    member = actions.invite_client_user(
        client=client_account, email="ops@example.com", permissions=["services"]
    )
    assert member.permissions == ["services"]
    assert member.user.has_usable_password() is False


@pytest.mark.parametrize(
    ("email", "permissions", "code"),
    [
        ("new@example.com", ["billing", "root"], "unknown_permission"),
        ("owner@example.com", ["billing"], "email_taken"),
        ("bad", [], "client_invalid"),
    ],
)
def test_add_client_user_refusals_write_nothing(client_account, email, permissions, code):
    before = table_counts()
    with pytest.raises(BillowError) as exc:
        actions.add_client_user(client=client_account, email=email, permissions=permissions)
    assert exc.value.code == code
    assert table_counts() == before


def test_unknown_permission_details_list_the_bad_names(client_account):
    with pytest.raises(BillowError) as exc:
        actions.add_client_user(
            client=client_account, email="n@example.com", permissions=["zeta", "alpha", "users"]
        )
    assert exc.value.details == {"permissions": ["alpha", "zeta"]}


def test_set_client_user_permissions_replaces_them(client_account):
    # given
    member = actions.add_client_user(
        client=client_account, email="m@example.com", permissions=["billing"]
    )
    # when
    actions.set_client_user_permissions(client_user=member, permissions=["users", "services"])
    # then
    member.refresh_from_db()
    assert member.permissions == ["services", "users"]
    event = AccountEvent.objects.get(type="client_user.permissions_set")
    assert event.data == {
        "client_user_id": member.pk,
        "from": ["billing"],
        "to": ["services", "users"],
    }


def test_set_permissions_refusals_change_nothing(client_account):
    # given
    member = actions.add_client_user(
        client=client_account, email="m@example.com", permissions=["billing"]
    )
    owner = owner_of(client_account)
    before = table_counts()
    # when / then
    with pytest.raises(BillowError) as exc:
        actions.set_client_user_permissions(client_user=owner, permissions=["billing"])
    assert exc.value.code == "owner_immutable"
    with pytest.raises(BillowError) as exc:
        actions.set_client_user_permissions(client_user=member, permissions=["sudo"])
    assert exc.value.code == "unknown_permission"
    assert table_counts() == before
    assert ClientUser.objects.get(pk=member.pk).permissions == ["billing"]
    assert ClientUser.objects.get(pk=owner.pk).permissions == []


def test_remove_client_user_deletes_link_and_login(client_account):
    # given
    member = actions.add_client_user(client=client_account, email="m@example.com")
    user_pk = member.user_id
    # when
    actions.remove_client_user(client_user=member)
    # then
    assert not ClientUser.objects.filter(pk=member.pk).exists()
    assert not User.objects.filter(pk=user_pk).exists()
    assert AccountEvent.objects.get(type="client_user.removed").data == {
        "client_user_id": member.pk,
        "email": "m@example.com",
    }
    # and the email can be invited again
    again = actions.invite_client_user(client=client_account, email="m@example.com")
    assert again.user.username == "m@example.com"


def test_remove_client_user_keeps_a_staff_login(client_account):
    staff = User.objects.create_user("staff@example.com", "staff@example.com", is_staff=True)
    link = ClientUser.objects.create(client=client_account, user=staff)
    actions.remove_client_user(client_user=link)
    assert not ClientUser.objects.filter(pk=link.pk).exists()
    assert User.objects.filter(pk=staff.pk).exists()


def test_owner_cannot_be_removed(client_account):
    owner = owner_of(client_account)
    before = table_counts()
    with pytest.raises(BillowError) as exc:
        actions.remove_client_user(client_user=owner)
    assert exc.value.code == "owner_immutable"
    assert table_counts() == before


def test_database_allows_one_owner_per_client(client_account):
    # given
    intruder = User.objects.create_user("second@example.com")
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientUser.objects.create(client=client_account, user=intruder, is_owner=True)
    assert ClientUser.objects.filter(client=client_account, is_owner=True).count() == 1


def test_two_clients_each_have_their_own_owner(client_account, provider):
    other = actions.create_client(email="other@example.com", providers=[provider])
    assert ClientUser.objects.filter(is_owner=True).count() == 2
    assert owner_of(other).user.username == "other@example.com"


@pytest.mark.parametrize(
    ("is_owner", "permissions", "is_active", "perm", "expected"),
    [
        (True, [], True, "billing", True),
        (True, [], True, "users", True),
        (True, [], False, "billing", False),
        (False, ["billing"], True, "billing", True),
        (False, ["billing"], True, "services", False),
        (False, [], True, "payers", False),
        (False, ["payers"], False, "payers", False),
    ],
)
def test_has_permission(is_owner, permissions, is_active, perm, expected):
    member = ClientUser(is_owner=is_owner, permissions=permissions, is_active=is_active)
    assert member.has_permission(perm) is expected
