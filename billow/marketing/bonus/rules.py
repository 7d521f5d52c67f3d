"""The bonus rules as pure functions (no database): what a charge earns, what points may pay.

The quote (``orders.quote``), the checkout's settlement, the renewal job and the top-up hook all
build ``ChargeFacts`` from the same charge data (each line's amount net of tax) and call
``points_for_charge``; so "you will earn N" on a quote is what the account later receives.

Rules are tried by ``priority`` (lower first, then id). A rule applies when its trigger, dates,
client groups, n-th purchase and minimum amount (the in-scope net, in the rule's currency)
match; a fixed rule gives its points once per charge (spread over the in-scope lines by their
amounts, for proportional reversal), a percent rule gives ``floor(net * percent / 100 / value
of a point)`` per line. A rule with ``stop_after`` that applied ends the evaluation. Deduction
rules take points instead of giving them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from billow.core.money import allocate


class Trigger(StrEnum):
    FIRST_PURCHASE = "first_purchase"
    REPEAT_PURCHASE = "repeat_purchase"
    RENEWAL = "renewal"
    TOPUP = "topup"
    MANUAL = "manual"


class Direction(StrEnum):
    ACCRUAL = "accrual"
    DEDUCTION = "deduction"


class AmountKind(StrEnum):
    FIXED = "fixed"
    PERCENT = "percent"


class Scope(StrEnum):
    ALL = "all"
    PRODUCT_TYPES = "product_types"
    TARIFF_GROUPS = "tariff_groups"
    TARIFFS = "tariffs"


def purchase_trigger(paid_orders_before: int) -> Trigger:
    return Trigger.FIRST_PURCHASE if paid_orders_before == 0 else Trigger.REPEAT_PURCHASE


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One charged thing: ``key`` names it (an order item, a charge key, a payment), with its
    amount net of tax in minor units."""

    key: str
    net_minor: int
    tariff_id: int | None = None
    product_type: str = ""


def manual_line(nonce: str, amount_minor: int) -> ChargeLine:
    """The one line the manual-trigger rules see when staff apply them to an amount."""
    return ChargeLine(f"manual:{nonce}", amount_minor)


@dataclass(frozen=True, slots=True)
class ChargeFacts:
    trigger: Trigger
    currency: str
    lines: tuple[ChargeLine, ...]
    on: date
    group_ids: frozenset[int] = frozenset()
    purchase_number: int = 0  # the n-th paid order this is (purchases only)
    minor_per_point: Decimal | None = None  # the value of a point in ``currency``


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: int
    name: str
    trigger: Trigger
    direction: Direction = Direction.ACCRUAL
    kind: AmountKind = AmountKind.FIXED
    points: int = 0
    percent: Decimal = Decimal(0)
    scope: Scope = Scope.ALL
    product_types: frozenset[str] = frozenset()
    tariff_ids: frozenset[int] = frozenset()  # the tariffs, or the tariffs of the groups
    priority: int = 100
    stop_after: bool = False
    group_ids: frozenset[int] = frozenset()  # allowed client groups; empty: every client
    min_amount_minor: int = 0
    min_amount_currency: str = ""
    nth_purchase: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What one rule did: ``points`` (positive), given or taken per ``direction``, and their
    split over the charge's lines (``per_line``: line key -> points)."""

    rule_id: int
    direction: Direction
    points: int
    per_line: dict[str, int] = field(default_factory=dict)

    @property
    def signed(self) -> int:
        return self.points if self.direction == Direction.ACCRUAL else -self.points


def _in_scope(rule: RuleInfo, line: ChargeLine) -> bool:
    if rule.scope == Scope.ALL:
        return True
    if rule.scope == Scope.PRODUCT_TYPES:
        return line.product_type in rule.product_types
    return line.tariff_id is not None and line.tariff_id in rule.tariff_ids


def _conditions_hold(rule: RuleInfo, facts: ChargeFacts) -> bool:
    if rule.trigger != facts.trigger:
        return False
    if rule.valid_from is not None and facts.on < rule.valid_from:
        return False
    if rule.valid_to is not None and facts.on > rule.valid_to:
        return False
    if rule.group_ids and not rule.group_ids & facts.group_ids:
        return False
    return rule.nth_purchase is None or rule.nth_purchase == facts.purchase_number


def percent_points(net_minor: int, percent: Decimal, minor_per_point: Decimal | None) -> int:
    """``floor(net * percent / 100 / value)``: points never worth more than the percent."""
    if not minor_per_point or minor_per_point <= 0 or net_minor <= 0:
        return 0
    exact = Decimal(net_minor) * percent / Decimal(100) / minor_per_point
    return int(exact.to_integral_value(rounding=ROUND_FLOOR))


def _apply(rule: RuleInfo, facts: ChargeFacts, lines: Sequence[ChargeLine]) -> RuleOutcome:
    if rule.kind == AmountKind.PERCENT:
        per_line = {
            ln.key: percent_points(ln.net_minor, rule.percent, facts.minor_per_point)
            for ln in lines
        }
    else:
        nets = [max(0, ln.net_minor) for ln in lines]
        shares = (
            allocate(rule.points, nets) if sum(nets) else [rule.points] + [0] * (len(lines) - 1)
        )
        per_line = {ln.key: share for ln, share in zip(lines, shares, strict=True)}
    per_line = {k: v for k, v in per_line.items() if v}
    return RuleOutcome(rule.id, rule.direction, sum(per_line.values()), per_line)


def points_for_charge(rules: Iterable[RuleInfo], facts: ChargeFacts) -> list[RuleOutcome]:
    """The outcome of every rule that applies to ``facts``, in evaluation order."""
    out: list[RuleOutcome] = []
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if not _conditions_hold(rule, facts):
            continue
        lines = [ln for ln in facts.lines if _in_scope(rule, ln)]
        if not lines:
            continue
        if rule.min_amount_minor:
            if rule.min_amount_currency != facts.currency:
                continue
            if sum(ln.net_minor for ln in lines) < rule.min_amount_minor:
                continue
        outcome = _apply(rule, facts, lines)
        if outcome.points:
            out.append(outcome)
        if rule.stop_after:
            break
    return out


def net_points(outcomes: Iterable[RuleOutcome]) -> int:
    """Points given less points taken."""
    return sum(o.signed for o in outcomes)


@dataclass(frozen=True, slots=True)
class RedemptionPlan:
    points: int
    amount_minor: int


NO_REDEMPTION = RedemptionPlan(0, 0)


def plan_redemption(
    *,
    total_minor: int,
    balance_points: int,
    requested_points: int | None,
    minor_per_point: Decimal | None,
    max_share_percent: Decimal,
) -> RedemptionPlan:
    """How many points pay for a total: at most the balance, the request (None: as many as
    allowed) and ``max_share_percent`` of the total; the money is ``floor(points * value)``,
    so points never pay more than the share."""
    if not minor_per_point or minor_per_point <= 0 or total_minor <= 0:
        return NO_REDEMPTION
    cap_minor = int(
        (Decimal(total_minor) * max_share_percent / 100).to_integral_value(rounding=ROUND_FLOOR)
    )
    cap_points = int((Decimal(cap_minor) / minor_per_point).to_integral_value(rounding=ROUND_FLOOR))
    wanted = balance_points if requested_points is None else requested_points
    points = max(0, min(balance_points, wanted, cap_points))
    amount = int((points * minor_per_point).to_integral_value(rounding=ROUND_FLOOR))
    return RedemptionPlan(points, amount) if amount > 0 else NO_REDEMPTION


@dataclass(frozen=True, slots=True)
class BonusTerms:
    """Everything the quote needs about the client's bonus account (built by
    ``bonus.selectors.get_bonus_terms``): the rules and facts for earning, and the balance,
    value and cap for paying. ``can_earn`` is false without the client's consent or outside
    the program's dates."""

    rules: tuple[RuleInfo, ...]
    trigger: Trigger
    on: date
    group_ids: frozenset[int]
    purchase_number: int
    minor_per_point: Decimal | None
    max_share_percent: Decimal
    balance_points: int
    requested_points: int | None
    can_earn: bool
    can_spend: bool

    def facts(self, currency: str, lines: Sequence[ChargeLine]) -> ChargeFacts:
        return ChargeFacts(
            self.trigger,
            currency,
            tuple(lines),
            self.on,
            self.group_ids,
            self.purchase_number,
            self.minor_per_point,
        )

    def earn(self, currency: str, lines: Sequence[ChargeLine]) -> int:
        if not self.can_earn:
            return 0
        return net_points(points_for_charge(self.rules, self.facts(currency, lines)))

    def redeem(self, total_minor: int) -> RedemptionPlan:
        if not self.can_spend:
            return NO_REDEMPTION
        return plan_redemption(
            total_minor=total_minor,
            balance_points=self.balance_points,
            requested_points=self.requested_points,
            minor_per_point=self.minor_per_point,
            max_share_percent=self.max_share_percent,
        )
