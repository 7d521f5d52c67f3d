"""Staff log in as a client (issue 13.2): the audit side. The client area (billow.web) keeps
the staff member's own login and acts for the client's owner while the session says so; these
actions check who may and write the ``client.impersonation_started`` / ``_ended`` events
(actor: the staff member; data: the IP address)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billow.accounts import errors
from billow.accounts.models import AccountEvent, Client, ClientUser
from billow.core.actors import Actor, ActorKind
from billow.core.audit import audit_kwargs


def get_impersonated_user(client: Client | int) -> ClientUser:
    """The client user staff act as: the enabled owner (``impersonation_refused`` if none)."""
    client_id = client if isinstance(client, int) else client.pk
    owner = (
        ClientUser.objects.select_related("client", "user")
        .filter(client_id=client_id, is_owner=True, is_active=True)
        .first()
    )
    if owner is None:
        raise errors.ImpersonationRefused(
            "The client has no enabled owner to log in as", client_id=client_id
        )
    return owner


def start_impersonation(
    *, client: Client, actor: Actor, ip: str | None = None, now: datetime | None = None
) -> ClientUser:
    """Record that staff ``actor`` logs in as ``client``; returns the owner they act as.
    Refused (``impersonation_refused``, nothing written) for a non-staff actor or a client
    without an enabled owner."""
    if actor.kind != ActorKind.STAFF:
        raise errors.ImpersonationRefused("Only staff may log in as a client")
    owner = get_impersonated_user(client)
    with transaction.atomic():
        data = {"ip": ip or "", "as_user_id": owner.user_id}
        AccountEvent.objects.create(
            client=client,
            **audit_kwargs(actor, "client.impersonation_started", data, now=now),
        )
    return owner


def end_impersonation(
    *, client: Client, actor: Actor, ip: str | None = None, now: datetime | None = None
) -> None:
    """Record that staff ``actor`` left the client area of ``client``."""
    with transaction.atomic():
        AccountEvent.objects.create(
            client=client,
            **audit_kwargs(actor, "client.impersonation_ended", {"ip": ip or ""}, now=now),
        )
