"""Staff changing a client's profile (name, language, country, contact person, comment): the
staff API's ``PATCH /staff/clients/<id>/``. One transaction with a ``client.updated``
``AccountEvent`` carrying the old and new values; a refusal writes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from billow.accounts import errors
from billow.accounts.models import AccountEvent, Client
from billow.accounts.validators import check_country, check_language
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs

PROFILE_FIELDS = ("name", "language", "country", "contact_person", "comment")


def update_client_profile(
    *, client: Client, actor: Actor | None, now: datetime | None = None, **changes: Any
) -> Client:
    """Change profile fields of ``client`` (only ``PROFILE_FIELDS``; ``client_invalid``
    otherwise, ``unknown_language`` / ``unknown_country`` for bad values). Unchanged values
    write nothing."""
    unknown = sorted(set(changes) - set(PROFILE_FIELDS))
    if unknown:
        raise errors.ClientInvalid(f"unknown fields: {', '.join(unknown)}", fields=unknown)
    if "language" in changes:
        changes["language"] = check_language(changes["language"])
    if "country" in changes:
        changes["country"] = check_country(changes["country"])
    if "name" in changes and not str(changes["name"]).strip():
        raise errors.ClientInvalid("a client needs a name", fields=["name"])
    moment = clock.now(now)
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        diff = {
            k: {"from": getattr(locked, k), "to": v}
            for k, v in changes.items()
            if getattr(locked, k) != v
        }
        if diff:
            for k, change in diff.items():
                setattr(locked, k, change["to"])
            locked.save(update_fields=list(diff))
            AccountEvent.objects.create(
                client=locked, **audit_kwargs(actor, "client.updated", diff, now=moment)
            )
    return locked
