"""Canned replies rendered in a sandbox.

Not the Django template engine: it resolves attributes, calls methods and has tags such as
``{% debug %}`` that print the whole context. Here a placeholder is ``{{ name.field }}`` looked
up in a fixed table of plain strings built for the ticket; anything else, any tag and any
unknown name renders as nothing. ``{{ settings.SECRET_KEY }}`` is an unknown name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from billow.support.models import Ticket

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)

#: The placeholders staff may use (documented in the admin's help text).
PLACEHOLDERS = (
    "client.name",
    "client.email",
    "client.contact_person",
    "ticket.id",
    "ticket.subject",
    "service.id",
    "service.name",
    "staff.name",
)


def placeholder_values(
    ticket: Ticket, *, staff_name: str, service_name: str = ""
) -> dict[str, str]:
    client = ticket.client
    values = {
        "client.name": client.name if client else ticket.requester_email,
        "client.email": client.email if client else ticket.requester_email,
        "client.contact_person": (client.contact_person if client else "") or "",
        "ticket.id": str(ticket.pk),
        "ticket.subject": ticket.subject,
        "service.id": str(ticket.service_id or ""),
        "service.name": service_name,
        "staff.name": staff_name,
    }
    return {key: str(value) for key, value in values.items()}


def render_canned(text: str, values: Mapping[str, str]) -> str:
    """Fill the known placeholders with their plain values; drop everything else."""
    without_tags = _TAG.sub("", text)
    return _PLACEHOLDER.sub(
        lambda m: values.get(m.group(1), "") if m.group(1) in PLACEHOLDERS else "", without_tags
    )
