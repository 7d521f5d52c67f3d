from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from billow.accounts.staff import STAFF_ROLES, setup_staff_roles

pytestmark = pytest.mark.django_db


def codenames(name):
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_setup_creates_the_three_groups_and_is_idempotent():
    # when
    first = setup_staff_roles()
    second = setup_staff_roles()
    # then
    assert [r.name for r in first] == list(STAFF_ROLES)
    assert [r.created for r in first] == [True, True, True]
    assert [r.created for r in second] == [False, False, False]
    assert [r.permission_count for r in first] == [r.permission_count for r in second]
    assert Group.objects.count() == 3


def test_role_permissions():
    setup_staff_roles()
    admins, billing, support = (codenames(n) for n in STAFF_ROLES)
    assert {"delete_client", "add_provider", "change_user", "delete_payer"} <= admins
    assert {"add_client", "change_payer", "view_accountevent"} <= billing
    assert {"delete_client", "add_accountevent", "change_accountevent"}.isdisjoint(billing)
    assert {"view_client", "change_clientuser", "change_payer", "view_payer"} <= support
    assert {"change_client", "add_payer", "delete_payer", "add_provider"}.isdisjoint(support)
    assert not any(c.startswith("delete_") for c in support)


def test_support_staff_has_the_permissions_through_the_group():
    setup_staff_roles()
    user = User.objects.create_user("sam", is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert user.has_perm("accounts.view_client")
    assert user.has_perm("accounts.change_clientuser")
    assert not user.has_perm("accounts.change_client")


def test_setup_resets_edited_permissions():
    setup_staff_roles()
    group = Group.objects.get(name="Support")
    group.permissions.clear()
    setup_staff_roles()
    assert "view_client" in codenames("Support")


def test_command_prints_a_line_per_role(capsys):
    call_command("setup_staff_roles")
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == list(STAFF_ROLES)
    assert out[0].startswith("Administrators: created, ")
