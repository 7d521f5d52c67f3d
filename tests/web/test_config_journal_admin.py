"""The configuration journal beyond prices: an admin create and delete of a client group, a
staff role's permissions (m2m) and a staff password (recorded as changed, never its value)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client as HttpClient

from billow.accounts.models import ClientGroup
from billow.core.journal import HIDDEN, record_change, snapshot
from billow.core.models import ChangeAction, ConfigChange

pytestmark = pytest.mark.django_db


def test_client_group_created_and_deleted_in_the_admin_are_journalled(
    admin_client: HttpClient, admin_user: User
) -> None:
    resp = admin_client.post(
        "/admin/accounts/clientgroup/add/",
        {
            "name": "Resellers",
            "description": "",
            "allow_delete": "on",
            "referral_participation": "default",
            "mailing_segment": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    assert resp.status_code == 302, resp.context["adminform"].form.errors
    group = ClientGroup.objects.get(name="Resellers")
    created = ConfigChange.objects.get(action=ChangeAction.CREATED)
    assert (created.object_id, created.object_repr, created.staff_user_id) == (
        str(group.pk),
        "Resellers",
        admin_user.pk,
    )
    assert {d["field"]: d["new"] for d in created.diff}["name"] == "Resellers"
    resp = admin_client.post(f"/admin/accounts/clientgroup/{group.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    deleted = ConfigChange.objects.get(action=ChangeAction.DELETED)
    assert (deleted.object_id, deleted.object_repr) == (str(group.pk), "Resellers")
    assert {d["field"]: d["old"] for d in deleted.diff}["name"] == "Resellers"
    assert not ClientGroup.objects.filter(pk=group.pk).exists()


def test_staff_role_permissions_are_journalled_as_id_lists(admin_user: User) -> None:
    role = Group.objects.create(name="Billing desk")
    before = snapshot(role)
    perm = Permission.objects.get(codename="impersonate_client")
    role.permissions.add(perm)
    change = record_change(actor=None, obj=role, before=before, after=snapshot(role))
    assert change is not None
    assert change.diff == [
        {"field": "permissions", "label": "permissions", "old": [], "new": [perm.pk]}
    ]


def test_a_password_change_is_recorded_without_the_values(admin_user: User) -> None:
    before = snapshot(admin_user)
    admin_user.set_password("another-strong-one-7")
    admin_user.save()
    change = record_change(actor=None, obj=admin_user, before=before, after=snapshot(admin_user))
    assert change is not None
    assert change.diff == [{"field": "password", "label": "password", "old": HIDDEN, "new": HIDDEN}]
