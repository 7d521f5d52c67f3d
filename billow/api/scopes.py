"""The fixed set of API token scopes and how they map to client-user permissions.

A scope is ``<family>:<read|write>``; ``write`` implies ``read`` of the same family. A view
declares its family (``scope = "services"``); safe methods need ``:read``, the others ``:write``.
Client families also need the matching ``ClientPermission`` of the acting client user (the owner
has them all); ``staff`` needs a Django staff user.
"""

from __future__ import annotations

from collections.abc import Iterable

from billow.accounts.models import ClientPermission

SCOPES: dict[str, str] = {
    "account:read": "Read the profile, balances summary and notifications",
    "account:write": "Mark notifications read",
    "services:read": "List services, their events and price previews",
    "services:write": "Order (cart, checkout, pay or cancel orders), renew, change, delete "
    "services; auto-renew on/off",
    "billing:read": "Read balances, the ledger statement, payments, saved methods and invoices",
    "billing:write": "Top up the balance, manage saved payment methods",
    "payers:read": "List payers",
    "payers:write": "Create and change payers",
    "users:read": "List the client's users and their permissions",
    "users:write": "Invite, change and remove the client's users",
    "catalog:read": "List orderable tariffs with prices",
    "support:read": "Read the client's support tickets and their messages",
    "support:write": "Open support tickets, reply, close, reopen and rate them",
    "staff:read": "Staff: read catalog, clients, services and the ledger",
    "staff:write": "Staff: create and change catalog entries, promotions, tax rules, payment "
    "methods, clients and payers; service operations (create, paid-until, price, plan, renew, "
    "suspend, resume, delete, re-run, attach); balance adjustments",
}

#: Families that act for a client, and the client-user permission each needs (None: any user).
CLIENT_FAMILIES: dict[str, str | None] = {
    "account": None,
    "catalog": None,
    "services": ClientPermission.SERVICES.value,
    "billing": ClientPermission.BILLING.value,
    "payers": ClientPermission.PAYERS.value,
    "users": ClientPermission.USERS.value,
    "support": None,
}
STAFF_FAMILY = "staff"


def family_of(scope: str) -> str:
    return scope.split(":", 1)[0]


def grants(scopes: Iterable[str], needed: str) -> bool:
    """Whether a token with ``scopes`` may do ``needed`` (``services:read`` ...)."""
    have = set(scopes)
    if needed in have:
        return True
    family, _, level = needed.partition(":")
    return level == "read" and f"{family}:write" in have
