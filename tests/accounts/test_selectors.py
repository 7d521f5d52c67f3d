from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from billow.accounts import actions, selectors
from billow.accounts.models import ClientUser

pytestmark = pytest.mark.django_db


def test_get_client_for_user(client_account):
    # given
    owner = ClientUser.objects.get(client=client_account).user
    member = actions.add_client_user(client=client_account, email="m@example.com").user
    staff = User.objects.create_user("staff", is_staff=True)
    # then
    assert selectors.get_client_for_user(owner) == client_account
    assert selectors.get_client_for_user(member) == client_account
    assert selectors.get_client_for_user(staff) is None
    assert selectors.get_client_for_user(AnonymousUser()) is None
    assert selectors.get_client_for_user(None) is None


def test_disabled_client_user_or_login_acts_for_no_client(client_account):
    member = actions.add_client_user(client=client_account, email="m@example.com")
    ClientUser.objects.filter(pk=member.pk).update(is_active=False)
    assert selectors.get_client_for_user(member.user) is None
    owner = ClientUser.objects.get(client=client_account, is_owner=True).user
    owner.is_active = False
    assert selectors.get_client_for_user(owner) is None


def test_list_clients_in_group(client_account, provider, group):
    other = actions.create_client(email="o@example.com", providers=[provider])
    outsider = actions.create_client(email="x@example.com", providers=[provider])
    actions.add_client_to_group(client=other, group=group, source="auto")
    actions.add_client_to_group(client=client_account, group=group)
    members = list(selectors.list_clients_in_group(group))
    assert members == [client_account, other]
    assert outsider not in members


def test_list_payers_for_client(client_account, provider):
    other = actions.create_client(email="o@example.com", providers=[provider])
    a = actions.create_payer(client=client_account, kind="individual", name="A")
    b = actions.create_payer(client=client_account, kind="individual", name="B", is_active=False)
    actions.create_payer(client=other, kind="individual", name="C")
    assert list(selectors.list_payers_for_client(client_account)) == [a, b]
    assert list(selectors.list_payers_for_client(client_account, active_only=True)) == [a]


def test_client_scope_is_one_query_and_follows_membership_actions(
    client_account, provider, group, django_assert_num_queries
):
    fresh = type(client_account).objects.get(pk=client_account.pk)
    with django_assert_num_queries(1):
        scope = selectors.get_client_scope(fresh)
        assert selectors.get_client_scope(fresh) is scope  # remembered on the instance
    assert scope.provider_ids == frozenset({provider.pk})
    assert scope.group_ids == ()
    actions.add_client_to_group(client=fresh, group=group)
    assert selectors.get_client_scope(fresh).group_ids == (group.pk,)
    actions.remove_client_from_group(client=fresh, group=group)
    assert selectors.get_client_scope(fresh).group_ids == ()
