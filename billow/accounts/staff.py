"""Staff roles: Django groups with model permissions (staff are Django staff users).

``setup_staff_roles()`` is idempotent: it creates the groups that are missing and sets each one's
permissions to exactly the table below (permissions of apps not installed yet are skipped, so run
it again after adding apps; ``billow migrate`` then ``billow setup_staff_roles``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})
EDIT = frozenset({"view", "add", "change"})

#: role name -> app label -> allowed permission verbs on every model of that app, with optional
#: per-model overrides as "app.model".
STAFF_ROLES: dict[str, dict[str, frozenset[str]]] = {
    "Administrators": {
        "accounts": ALL,
        "catalog": ALL,
        "ledger": ALL,
        "auth": ALL,
        "admin": VIEW,
        "support": ALL,
    },
    "Billing operators": {
        "accounts": EDIT,
        "accounts.accountevent": VIEW,
        "catalog": EDIT,
        # Balance adjustments post ledger transactions through an action; no edits of history.
        "ledger": VIEW | {"add"},
    },
    "Support": {
        "accounts": VIEW,
        "accounts.clientuser": EDIT,
        "accounts.payer": VIEW | {"change"},
        "catalog": VIEW,
        "ledger": VIEW,
        # tickets are answered through the conversation page (the support actions)
        "support": EDIT,
    },
}


@dataclass(frozen=True)
class RoleResult:
    name: str
    created: bool
    permission_count: int


def role_permissions(spec: dict[str, frozenset[str]]) -> list[Permission]:
    """The permissions a role spec grants; an "app.model" key overrides its app's verbs."""
    wanted: list[Permission] = []
    perms = Permission.objects.select_related("content_type").filter(
        Q(content_type__app_label__in={key.split(".")[0] for key in spec})
    )
    for perm in perms:
        app, model = perm.content_type.app_label, perm.content_type.model
        verbs = spec.get(f"{app}.{model}", spec.get(app, frozenset()))
        verb = perm.codename.split("_", 1)[0]
        if perm.codename == f"{verb}_{model}" and verb in verbs:
            wanted.append(perm)
    return sorted(wanted, key=lambda p: p.pk)


def setup_staff_roles() -> list[RoleResult]:
    """Create or update the staff groups of ``STAFF_ROLES``; returns what was done per role."""
    results = []
    with transaction.atomic():
        for name, spec in STAFF_ROLES.items():
            group, created = Group.objects.get_or_create(name=name)
            perms = role_permissions(spec)
            group.permissions.set(perms)
            results.append(RoleResult(name=name, created=created, permission_count=len(perms)))
    return results
