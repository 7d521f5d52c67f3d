"""Staff write the earning rules of a bonus program."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from billow.accounts.models import ClientGroup
from billow.catalog.models import ProductType, Tariff
from billow.core.actors import Actor
from billow.core.journal import record_change, snapshot
from billow.marketing.bonus.errors import BonusError
from billow.marketing.bonus.models import BonusProgram, BonusRule, BonusTariffGroup


def create_bonus_rule(
    *,
    program: BonusProgram,
    links: Mapping[str, Sequence[int]],
    actor: Actor | None = None,
    **fields: Any,
) -> BonusRule:
    """A rule of ``program`` limited to the linked ``product_types``, ``tariff_groups``,
    ``tariffs`` and ``client_groups`` (ids; tariffs and tariff groups of the program's provider).
    An unknown id is refused (``invalid_rule``, naming the link) and nothing is written."""
    targets = {
        "product_types": ProductType.objects.all(),
        "tariff_groups": BonusTariffGroup.objects.filter(provider_id=program.provider_id),
        "tariffs": Tariff.objects.filter(provider_id=program.provider_id),
        "client_groups": ClientGroup.objects.all(),
    }
    for name, ids in links.items():
        found = set(targets[name].filter(pk__in=ids).values_list("pk", flat=True))
        if found != set(ids):
            raise BonusError(f"unknown {name}", code="invalid_rule", field=name)
    with transaction.atomic():
        rule = BonusRule.objects.create(program=program, **fields)
        for name, ids in links.items():
            getattr(rule, name).set(ids)
        record_change(actor=actor, obj=rule, before=None, after=snapshot(rule), parent=program)
    return rule
