"""The audit event base. Each app keeps its own event table by subclassing :class:`AuditEvent`.

Actions of the owning app write one event row per state change, in the same transaction
(STYLE §11); inside the services app, for example::

    ServiceEvent.objects.create(service=s, **audit_kwargs(actor, "service.suspended", {...}))

Other apps ask the owner to record it (``billow.services.actions.record_events``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from billow.core import clock
from billow.core.actors import ACTOR_ID_MAX_LENGTH, ACTOR_KIND_CHOICES, Actor, resolve_actor
from billow.core.errors import ValidationError

EVENT_TYPE_MAX_LENGTH = 64
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class AuditEvent(models.Model):
    """Abstract: who (actor kind + id) did what (``type``, JSON ``data``) and when.

    Rows are written once and never edited. ``created_at`` comes from the injectable clock.
    """

    actor_kind = models.CharField(max_length=16, choices=ACTOR_KIND_CHOICES)
    actor_id = models.CharField(max_length=ACTOR_ID_MAX_LENGTH, blank=True, default="")
    type = models.CharField(max_length=EVENT_TYPE_MAX_LENGTH)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.type} by {self.actor_kind}:{self.actor_id or '-'}"


def audit_kwargs(
    actor: Actor | None,
    type: str,
    data: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The field values of an audit row (validated): actor, ``type``, ``data``, ``created_at``.

    ``type`` is dotted snake_case (``service.suspended``); ``data`` must be JSON-serialisable
    (Decimals, dates and UUIDs are fine).
    """
    if (
        not isinstance(type, str)
        or len(type) > EVENT_TYPE_MAX_LENGTH
        or not _EVENT_TYPE.match(type)
    ):
        raise ValidationError(f"Bad event type {type!r}", code="invalid_event_type")
    payload = dict(data or {})
    try:
        json.dumps(payload, cls=DjangoJSONEncoder)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"Event data is not JSON: {exc}", code="invalid_event_data") from exc
    return {
        **resolve_actor(actor).audit_fields(),
        "type": type,
        "data": payload,
        "created_at": clock.now(now),
    }
