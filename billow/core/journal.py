"""The configuration journal: who changed which configuration object, when, from where, and
what each field was before and after (issue 13.5).

Every configuration write calls :func:`record_change` in the transaction of the write: the
staff admin does it for every configuration model (``billow.web.admin_journal``), and an
action that writes configuration outside a model form passes a :func:`snapshot` from before
and after::

    before = snapshot(price)
    price.amount_minor = 1200
    price.save(update_fields=["amount_minor"])
    record_change(actor=actor, obj=price, before=before, after=snapshot(price), ip=ip)

Values are stored as they are in the database (money as minor units with the currency next to
it); the journal formats them for people. Fields that hold secrets are recorded as changed,
never with their values.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from billow.core import clock
from billow.core.actors import Actor, ActorKind, resolve_actor
from billow.core.models import ChangeAction, ConfigChange

#: Shown instead of the values of a secret field.
HIDDEN = "********"
_SECRET_WORDS = ("password", "secret", "token", "credential", "private_key", "api_key")
_REPR_MAX = 200


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _plain(value: Any) -> Any:
    """A JSON-friendly, comparable form of a field value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's field values by field name: concrete fields (foreign keys as ids) and,
    for a saved object, many-to-many fields as sorted id lists."""
    out: dict[str, Any] = {}
    opts = obj._meta
    for field in opts.concrete_fields:
        if field.primary_key:
            continue
        out[field.name] = _plain(field.value_from_object(obj))
    if obj.pk is not None:
        for m2m in opts.many_to_many:
            out[m2m.name] = sorted(o.pk for o in m2m.value_from_object(obj))
    return out


def _label(model: type[models.Model], name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a name that is no field is labelled by itself
        return name
    return str(getattr(field, "verbose_name", name))


def _currency_of(values: Mapping[str, Any]) -> str:
    code = values.get("currency")
    return code if isinstance(code, str) and len(code) == 3 else ""


def diff_of(
    model: type[models.Model], before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The changed fields, in the model's field order: ``{"field", "label", "old", "new"}``
    (``None`` where the side has no value); money fields (``*_minor``) add ``"currency"``."""
    names = [n for n in after if n in before] + [n for n in after if n not in before]
    names += [n for n in before if n not in after]
    currency = _currency_of(after) or _currency_of(before)
    out = []
    for name in names:
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old == new:
            continue
        entry: dict[str, Any] = {"field": name, "label": _label(model, name)}
        if is_secret_field(name):
            entry.update(old=HIDDEN if old else None, new=HIDDEN if new else None)
        else:
            entry.update(old=old, new=new)
        if name.endswith("_minor") and currency:
            entry["currency"] = currency
        out.append(entry)
    return out


def record_change(
    *,
    actor: Actor | None,
    obj: models.Model,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    ip: str | None = None,
    reason: str = "",
    object_repr: str = "",
    parent: models.Model | None = None,
    now: dt.datetime | None = None,
) -> ConfigChange | None:
    """Journal one write of ``obj``: ``before`` None = created, ``after`` None = deleted,
    both = changed (nothing is written when no field changed). ``parent``: the object ``obj``
    belongs to (a price's tariff), whose history then lists it. Returns the row or None."""
    if before is None and after is None:
        raise ValueError("record_change needs before or after")
    action = (
        ChangeAction.CREATED
        if before is None
        else ChangeAction.DELETED
        if after is None
        else ChangeAction.CHANGED
    )
    model = type(obj)
    diff = diff_of(model, before or {}, after or {})
    if action == ChangeAction.CHANGED and not diff:
        return None
    who = resolve_actor(actor)
    staff_id = int(who.id) if who.kind == ActorKind.STAFF and who.id.isdigit() else None
    return ConfigChange.objects.create(
        created_at=clock.now(now),
        actor_kind=who.kind.value,
        actor_id=who.id,
        actor_label=who.label[:150],
        staff_user_id=staff_id,
        ip=ip or None,
        action=action,
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=(object_repr or str(obj))[:_REPR_MAX],
        parent_type=None if parent is None else ContentType.objects.get_for_model(type(parent)),
        parent_id="" if parent is None else str(parent.pk),
        diff=diff,
        reason=reason[:200],
    )


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The request's peer address (``REMOTE_ADDR``; a proxy in front sets it from the
    forwarded header, as the deployment docs describe)."""
    value = meta.get("REMOTE_ADDR") or None
    return str(value) if value else None
