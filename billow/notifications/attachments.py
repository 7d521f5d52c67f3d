"""Attachments an outbox email names and the send job builds: ``{"kind": ..., "id": ...}``.

An app above notifications registers a builder per kind (``invoicing`` registers ``invoice`` and
``credit_note`` in its ``ready()``); the outbox row stores only the reference, so a PDF is never
kept in the database and is rendered from the document when the email is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from billow.core.registry import Registry


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


#: kind -> builder(object id, language) -> Attachment
AttachmentBuilder = Callable[[int, str], Attachment]
builders: Registry[AttachmentBuilder] = Registry("attachment builder")


def attachment_ref(kind: str, object_id: int) -> dict[str, Any]:
    """The reference an outbox row stores for one attachment."""
    return {"kind": kind, "id": int(object_id)}


def build_attachments(refs: Iterable[Mapping[str, Any]], language: str) -> list[Attachment]:
    """Build each referenced attachment; an unknown kind raises ``not_found``."""
    return [builders.get(str(ref["kind"]))(int(ref["id"]), language) for ref in refs]
