from __future__ import annotations

import pytest

from billow.accounts import actions
from billow.accounts.models import AccountEvent, ClientGroupMembership
from billow.core.errors import BillowError

from .conftest import T0, table_counts

pytestmark = pytest.mark.django_db


def test_add_client_to_group_is_idempotent(client_account, group):
    # when
    first = actions.add_client_to_group(client=client_account, group=group, now=T0)
    second = actions.add_client_to_group(client=client_account, group=group)
    # then
    assert first.pk == second.pk
    membership = ClientGroupMembership.objects.get()
    assert (membership.source, membership.added_at) == ("manual", T0)
    assert AccountEvent.objects.filter(type="client.group_added").count() == 1


def test_manual_add_upgrades_auto_membership_and_auto_never_downgrades(client_account, group):
    # given
    actions.add_client_to_group(client=client_account, group=group, source="auto")
    # when
    actions.add_client_to_group(client=client_account, group=group, source="manual")
    actions.add_client_to_group(client=client_account, group=group, source="auto")
    # then
    assert ClientGroupMembership.objects.get().source == "manual"
    sources = [e.data["source"] for e in AccountEvent.objects.filter(type="client.group_added")]
    assert sorted(sources) == ["auto", "manual"]


def test_remove_client_from_group(client_account, group):
    # given
    actions.add_client_to_group(client=client_account, group=group)
    # when
    removed = actions.remove_client_from_group(client=client_account, group=group)
    removed_again = actions.remove_client_from_group(client=client_account, group=group)
    # then
    assert (removed, removed_again) == (True, False)
    assert ClientGroupMembership.objects.count() == 0
    assert AccountEvent.objects.filter(type="client.group_removed").count() == 1


def test_auto_removal_keeps_a_manual_membership(client_account, group):
    actions.add_client_to_group(client=client_account, group=group, source="manual")
    removed = actions.remove_client_from_group(client=client_account, group=group, source="auto")
    assert removed is False
    assert ClientGroupMembership.objects.count() == 1


def test_unknown_source_refused(client_account, group):
    before = table_counts()
    with pytest.raises(BillowError) as exc:
        actions.add_client_to_group(client=client_account, group=group, source="magic")
    assert exc.value.code == "unknown_membership_source"
    with pytest.raises(BillowError) as exc:
        actions.remove_client_from_group(client=client_account, group=group, source="magic")
    assert exc.value.code == "unknown_membership_source"
    assert table_counts() == before
