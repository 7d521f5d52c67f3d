"""Pure promotion rules: the typed info the quote consumes and the condition check.

Conditions (reference §1.15): a condition with ``group`` 0 must hold on its own; conditions
sharing a non-zero ``group`` are OR-ed; the groups are AND-ed. A promotion with no
conditions applies to everybody. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class ConditionKind(StrEnum):
    CLIENT_GROUP = "client_group"  # the client is in group ``group_id``
    REGISTERED_DAYS_MIN = "registered_days_min"  # registered at least ``value`` days ago
    REGISTERED_DAYS_MAX = "registered_days_max"  # registered at most ``value`` days ago
    PAID_SERVICES_MIN = "paid_services_min"  # has at least ``value`` paid (open) services
    FIRST_ORDER = "first_order"  # has no paid order yet


class DiscountTarget(StrEnum):
    ALL = "all"  # every line of every item (setup fees included)
    TARIFF = "tariff"  # the tariff line (all tariffs, or ``tariff_id``)
    PERIOD = "period"  # tariff and addon lines of items ordered for ``period``
    ADDON = "addon"  # addon lines with internal name ``addon``


class DiscountKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"  # ``amount_minor`` off each matching line, never below zero


@dataclass(frozen=True, slots=True)
class ConditionInfo:
    kind: str
    group: int = 0
    group_id: int | None = None
    value: int = 0


@dataclass(frozen=True, slots=True)
class DiscountInfo:
    target: str
    kind: str
    percent: Decimal = Decimal(0)
    amount_minor: int = 0
    currency: str = ""
    tariff_id: int | None = None
    period: str = ""
    addon: str = ""


@dataclass(frozen=True, slots=True)
class PromotionInfo:
    """A promotion as the quote sees it (eligibility already checked by the selector)."""

    id: int
    name: str
    stackable: bool
    discounts: tuple[DiscountInfo, ...]
    code: str = ""
    code_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What conditions look at, fetched once per client."""

    group_ids: frozenset[int]
    registered_at: datetime
    paid_services: int
    has_paid_order: bool
    extra: dict[str, int] = field(default_factory=dict)


def condition_holds(c: ConditionInfo, facts: ClientFacts, now: datetime) -> bool:
    age_days = (now - facts.registered_at).days
    if c.kind == ConditionKind.CLIENT_GROUP:
        return c.group_id in facts.group_ids
    if c.kind == ConditionKind.REGISTERED_DAYS_MIN:
        return age_days >= c.value
    if c.kind == ConditionKind.REGISTERED_DAYS_MAX:
        return age_days <= c.value
    if c.kind == ConditionKind.PAID_SERVICES_MIN:
        return facts.paid_services >= c.value
    if c.kind == ConditionKind.FIRST_ORDER:
        return not facts.has_paid_order
    return False  # an unknown kind never grants a discount


def conditions_hold(conditions: Iterable[ConditionInfo], facts: ClientFacts, now: datetime) -> bool:
    """Ungrouped conditions all hold, and each group has at least one that holds."""
    groups: dict[int, bool] = {}
    for c in conditions:
        ok = condition_holds(c, facts, now)
        if c.group == 0:
            if not ok:
                return False
        else:
            groups[c.group] = groups.get(c.group, False) or ok
    return all(groups.values())
