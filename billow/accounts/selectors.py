"""Accounts reads. Querysets are returned unevaluated so callers can page and filter further."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Value

from billow.accounts.models import Client, ClientGroup, ClientGroupMembership, ClientUser, Payer


def get_client_user(user: Any) -> ClientUser | None:
    """The enabled ``ClientUser`` of an active, authenticated Django user; None otherwise."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (
        ClientUser.objects.select_related("client").filter(user_id=user.pk, is_active=True).first()
    )


def get_client_for_user(user: Any) -> Client | None:
    """The client an active user acts for (None for staff-only or disabled users)."""
    client_user = get_client_user(user)
    return client_user.client if client_user else None


def list_clients_in_group(group: ClientGroup) -> QuerySet[Client]:
    """Members of ``group`` (manual and automatic), by id."""
    return Client.objects.filter(memberships__group=group).order_by("id")


def list_payers_for_client(client: Client, *, active_only: bool = False) -> QuerySet[Payer]:
    """The client's payers, by id; ``active_only`` hides deactivated payers."""
    payers = Payer.objects.filter(client=client)
    if active_only:
        payers = payers.filter(is_active=True)
    return payers.order_by("id")


def list_client_users(client: Client) -> QuerySet[ClientUser]:
    """The client's users (owner first), with their Django users."""
    return (
        ClientUser.objects.filter(client=client).select_related("user").order_by("-is_owner", "id")
    )


def user_has_client_permission(user: Any, perm: str) -> bool:
    """Whether ``user`` acts for a client and may do ``perm`` (a ``ClientPermission`` value;
    the owner may do everything, a disabled client user nothing)."""
    client_user = get_client_user(user)
    return client_user is not None and client_user.has_permission(perm)


@dataclass(frozen=True, slots=True)
class ClientScope:
    """What decides what a client may order and at which price: its providers and groups."""

    provider_ids: frozenset[int]
    group_ids: tuple[int, ...]


_SCOPE_ATTR = "_billow_scope"


def get_client_scope(client: Client) -> ClientScope:
    """The client's providers and groups in one query, remembered on this ``Client`` instance
    (one request, one checkout). The membership actions forget it on the instance they are
    given; code that changes memberships otherwise must re-read the client."""
    known: ClientScope | None = client.__dict__.get(_SCOPE_ATTR)
    if known is not None:
        return known
    through = Client.providers.through
    rows = (
        through.objects.filter(client_id=client.pk)
        .values_list(Value("p"), "provider_id")
        .union(
            ClientGroupMembership.objects.filter(client_id=client.pk).values_list(
                Value("g"), "group_id"
            ),
            all=True,
        )
    )
    providers: set[int] = set()
    groups: set[int] = set()
    for kind, pk in rows:
        (providers if kind == "p" else groups).add(pk)
    scope = ClientScope(frozenset(providers), tuple(sorted(groups)))
    client.__dict__[_SCOPE_ATTR] = scope
    return scope


def remember_client_scope(
    client: Client, provider_ids: Iterable[int], group_ids: Iterable[int]
) -> None:
    """Set what ``get_client_scope`` returns for this instance (read together with it, e.g.
    by the API token lookup, in the same statement)."""
    scope = ClientScope(frozenset(provider_ids), tuple(sorted(set(group_ids))))
    client.__dict__[_SCOPE_ATTR] = scope


def forget_client_scope(client: Client) -> None:
    client.__dict__.pop(_SCOPE_ATTR, None)


def list_group_ids_for_client(client: Client | int) -> list[int]:
    """Ids of the groups the client belongs to (drives tariff visibility and prices)."""
    pk = client if isinstance(client, int) else client.pk
    return list(
        ClientGroupMembership.objects.filter(client_id=pk).values_list("group_id", flat=True)
    )


def list_provider_ids_for_client(client: Client | int) -> list[int]:
    pk = client if isinstance(client, int) else client.pk
    return list(
        Client.providers.through.objects.filter(client_id=pk).values_list("provider_id", flat=True)
    )
