"""Clients brought over from another billing system, in bulk (``billow import``).

The accounts app owns clients, their logins, payers and group memberships, so the migration
import asks it to write them: one statement per table for a whole batch, with the rows'
original registration times, status and password hashes. The caller (``billow.imports``)
validates every row first with ``accounts.validators`` and runs all of this in one transaction;
these actions check only what a bulk path could otherwise break (emails already taken).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from billow.accounts import errors
from billow.accounts.models import (
    AccountEvent,
    Client,
    ClientGroup,
    ClientGroupMembership,
    ClientUser,
    MembershipSource,
    Payer,
)
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs

BATCH = 5000


@dataclass(frozen=True, slots=True)
class ImportedClient:
    """A client as the source system had it (fields already validated and normalized)."""

    name: str
    email: str
    status: str
    language: str = "en"
    country: str = ""
    contact_person: str = ""
    comment: str = ""
    created_at: datetime | None = None
    source: str = ""  # "<system>:<id>", kept in the creation event


@dataclass(frozen=True, slots=True)
class ImportedUser:
    """A login of a client. ``password`` is a Django-encoded hash (``algorithm$...``) of a
    hasher in ``PASSWORD_HASHERS``, or "" for an unusable password (the user resets it)."""

    client_id: int
    email: str
    password: str = ""
    is_owner: bool = False
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportedPayer:
    client_id: int
    kind: str
    name: str
    fields: dict[str, Any] = field(default_factory=dict)


def ensure_client_groups(names: Sequence[str], *, actor: Actor | None = None) -> dict[str, int]:
    """The id of the client group of every name, creating the missing ones (names are unique)."""
    wanted = sorted(set(names))
    with transaction.atomic():
        known = dict(ClientGroup.objects.filter(name__in=wanted).values_list("name", "pk"))
        missing = [ClientGroup(name=n) for n in wanted if n not in known]
        for group in ClientGroup.objects.bulk_create(missing):
            known[group.name] = group.pk
            AccountEvent.objects.create(
                **audit_kwargs(actor, "client_group.imported", {"group_id": group.pk})
            )
    return known


def import_clients(
    clients: Sequence[ImportedClient],
    *,
    group_ids: Sequence[Sequence[int]],
    provider_id: int,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Create ``clients`` connected to ``provider_id``, members of their ``group_ids`` (one
    sequence per client), with a
    ``client.imported`` event each; returns their ids in input order. No login is created
    here (``import_client_users``). Rows go in one COPY per table on PostgreSQL."""
    moment = clock.now(now)
    with transaction.atomic():
        ids = rows.write_new(
            Client,
            CLIENT_FIELDS,
            [
                (
                    c.name[:200],
                    c.email,
                    c.status,
                    c.language,
                    c.country,
                    c.contact_person,
                    c.comment,
                    c.created_at or moment,
                )
                for c in clients
            ],
            with_ids=True,
        )
        rows.write_new(
            Client.providers.through, ("client_id", "provider_id"), [(i, provider_id) for i in ids]
        )
        rows.write_new(
            ClientGroupMembership,
            ("client_id", "group_id", "source", "added_at"),
            [
                (i, g, MembershipSource.MANUAL.value, moment)
                for i, groups in zip(ids, group_ids, strict=True)
                for g in groups
            ],
        )
        _events(
            actor,
            moment,
            [
                (i, "client.imported", {"source": c.source, "provider_ids": [provider_id]})
                for i, c in zip(ids, clients, strict=True)
            ],
        )
    return ids


CLIENT_FIELDS = (
    "name",
    "email",
    "status",
    "language",
    "country",
    "contact_person",
    "comment",
    "created_at",
)


def _events(
    actor: Actor | None, moment: datetime, events: Sequence[tuple[int, str, dict[str, Any]]]
) -> None:
    who = audit_kwargs(actor, "client.imported", now=moment)  # validated once for the batch
    kind, actor_id = who["actor_kind"], who["actor_id"]
    rows.write_new(
        AccountEvent,
        ("client_id", "actor_kind", "actor_id", "type", "data", "created_at"),
        [(client_id, kind, actor_id, type_, data, moment) for client_id, type_, data in events],
    )


def import_client_users(users: Sequence[ImportedUser], *, now: datetime | None = None) -> list[int]:
    """Create a login per ``users`` item (login = the normalized email) linked to its client;
    returns the ``ClientUser`` ids in input order. Refusal: ``email_taken`` when a login with
    one of the emails exists (nothing written). The client's ``client.imported`` event stands
    for its imported logins."""
    moment = clock.now(now)
    user_model = get_user_model()
    emails = [u.email for u in users]
    unusable = make_password(None)  # one random unusable marker is as good as one per user
    with transaction.atomic():
        taken: set[str] = set()
        for start in range(0, len(emails), BATCH):
            chunk = emails[start : start + BATCH]
            taken |= set(
                user_model.objects.filter(username__in=chunk).values_list("username", flat=True)
            )
        if taken or len(set(emails)) != len(emails):
            email = min(taken) if taken else emails[0]
            raise errors.EmailTaken(f"A user with email {email} already exists", email=email)
        logins = rows.write_new(
            user_model,
            USER_FIELDS,
            [
                (u.password or unusable, False, u.email, "", "", u.email, False, True, moment)
                for u in users
            ],
            with_ids=True,
        )
        return rows.write_new(
            ClientUser,
            ("client_id", "user_id", "is_owner", "permissions", "is_active", "created_at"),
            [
                (u.client_id, login, u.is_owner, list(u.permissions), True, moment)
                for u, login in zip(users, logins, strict=True)
            ],
            with_ids=True,
        )


USER_FIELDS = (
    "password",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
)


def import_payers(payers: Sequence[ImportedPayer], *, now: datetime | None = None) -> list[int]:
    """Create ``payers`` (unverified, as the source's verification cannot be carried over);
    returns their ids in input order. The client's ``client.imported`` event stands for them."""
    moment = clock.now(now)
    names = sorted({name for p in payers for name in p.fields})
    with transaction.atomic():
        return rows.write_new(
            Payer,
            ("client_id", "kind", "name", "created_at", *names),
            [
                (p.client_id, p.kind, p.name, moment, *(p.fields.get(n, "") for n in names))
                for p in payers
            ],
            with_ids=True,
        )


def update_imported_clients(
    changes: Sequence[tuple[int, ImportedClient]],
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> int:
    """Bring clients imported earlier up to date with the source (name, email, status,
    language, country, contact person): a later import run of a changed source row."""
    moment = clock.now(now)
    fields = ["name", "email", "status", "language", "country", "contact_person"]
    with transaction.atomic():
        rows = Client.objects.in_bulk([pk for pk, _ in changes])
        for pk, c in changes:
            row = rows[pk]
            row.name, row.email, row.status = c.name[:200], c.email, c.status
            row.language, row.country, row.contact_person = c.language, c.country, c.contact_person
        Client.objects.bulk_update(list(rows.values()), fields, batch_size=BATCH)
        AccountEvent.objects.bulk_create(
            AccountEvent(
                client_id=pk,
                **audit_kwargs(actor, "client.reimported", {"source": c.source}, now=moment),
            )
            for pk, c in changes
        )
    return len(changes)


def check_statuses(statuses: Sequence[str]) -> None:
    """``unknown_client_status`` unless every status is a client status."""
    bad = sorted(set(statuses) - {"active", "inactive"})
    if bad:
        raise errors.UnknownClientStatus(f"Unknown client status {bad[0]!r}", status=bad[0])
