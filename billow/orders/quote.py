"""The quote: the one pure pricing function (no database). Cart, checkout, renewal preview and
the admin all call ``calculate_quote`` on a ``QuoteInput`` built by ``selectors.build_quote_input``.

Steps, per item, each leaving a ``reason`` on the line:

1. **List price**: ``catalog.pricing.price_tariff`` prices the tariff period, setup fee and
   addons (stepped prices, enum and client-choice values) in the tariff's price currency.
2. **Opening share**: period-bound lines (tariff, addons; never the setup fee) are multiplied by
   the item's ``fraction`` (calendar billing opens with a part of a period), rounded half up.
3. **Currency**: when the tariff is priced in another currency, each line is converted with the
   item's ``RateQuote`` (group rates included), rounded once, half up.
4. **Discounts**: a promotion discounts the lines its discounts target (all lines; the tariff
   line; lines of items ordered for a period; an addon). Percent discounts round half up per
   line; fixed discounts (in the quote currency only) take ``amount`` off each matching line.
   A discount never takes a line below zero. Stackable promotions apply one after the other on
   what is left; when a non-stackable promotion is among the candidates, the item gets the
   single best of: each non-stackable alone, or all stackables together (ties: the first).
5. **Tax** (``billow.invoicing.tax``): per line and per rule on the net amount, rounded half up
   per line (the documented policy); added taxes raise the line total, included ones do not.
6. **Bonus** (``marketing.bonus.rules``, when ``bonus`` terms are given): the points the client
   asked to pay with, capped by the balance and the program's maximum share of the total, pay
   ``bonus`` (``bonus_points`` points); ``amount_due = total - bonus``. ``earn_points`` is what
   the order will earn: the program's rules on each item's amount net of tax (the same
   function the settlement calls on the same amounts). Without terms the
   ``bonus_redemption(total)`` hook decides (nothing by default).

Invariants (property-tested): ``total == sum(line.total)``, every ``line.net >= 0``,
``line.net == line.gross - line.discount`` and ``line.total == line.net + line.tax_added``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from billow.catalog.pricing import AddonValue, LineKind, PriceLine, TariffInfo, price_tariff
from billow.catalog.rates import RateQuote, apply_rate
from billow.core.money import Money, round_minor
from billow.invoicing.tax import TaxRuleInfo, rules_for_product, tax_line
from billow.marketing.bonus.rules import BonusTerms, ChargeLine
from billow.marketing.promos.rules import DiscountInfo, DiscountKind, DiscountTarget, PromotionInfo

BonusRedemption = Callable[[Money], Money]


def no_bonus(total: Money) -> Money:
    """The bonus hook until the bonus program exists: nothing is paid with bonus points."""
    return Money.zero(total.currency)


@dataclass(frozen=True, slots=True)
class QuoteItemInput:
    key: str
    tariff: TariffInfo
    period: str
    addon_values: Mapping[str, AddonValue] = field(default_factory=dict)
    parameters: Mapping[str, str] | None = None
    require_parameters: bool = True  # off for a quick order: values given are still checked
    include_setup: bool = True
    rate: RateQuote | None = None  # tariff.currency -> the quote currency
    fraction: Fraction = Fraction(1)


@dataclass(frozen=True, slots=True)
class QuoteInput:
    currency: str
    items: tuple[QuoteItemInput, ...]
    promotions: tuple[PromotionInfo, ...] = ()
    tax_rules: tuple[TaxRuleInfo, ...] = ()
    bonus_redemption: BonusRedemption = no_bonus
    bonus: BonusTerms | None = None
    reverse_charge: bool = False  # EU B2B: no VAT (the rules are empty), the invoice says so


@dataclass(frozen=True, slots=True)
class QuoteLine:
    item_key: str
    kind: str
    code: str
    description: str
    quantity: int
    unit_price: Money
    gross: Money
    discount: Money
    net: Money
    tax: Money
    tax_added: Money
    tax_rate: Decimal
    total: Money
    reason: str
    discount_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaxLine:
    rule_id: int
    name: str
    rate: Decimal
    included: bool
    amount: Money


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    promotion_id: int
    code: str
    code_id: int | None
    amount: Money


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    lines: tuple[QuoteLine, ...]
    tax_lines: tuple[TaxLine, ...]
    promotions: tuple[AppliedPromotion, ...]
    subtotal: Money  # sum of gross
    discount: Money
    net: Money
    tax: Money
    total: Money  # net + added tax = sum of line totals
    bonus: Money
    amount_due: Money
    reverse_charge: bool = False
    bonus_points: int = 0  # points that pay ``bonus``
    earn_points: int = 0  # points the order will earn ("you will earn N")

    @property
    def totals(self) -> dict[str, Money]:
        """Totals per currency (a quote is in one currency; the map keeps the API uniform)."""
        return {self.currency: self.total}

    def item_total(self, key: str) -> Money:
        return _sum((x.total for x in self.lines if x.item_key == key), self.currency)

    def item_net(self, key: str) -> Money:
        return _sum((x.net for x in self.lines if x.item_key == key), self.currency)

    def item_tax_added(self, key: str) -> Money:
        return _sum((x.tax_added for x in self.lines if x.item_key == key), self.currency)

    def as_json(self) -> dict[str, Any]:
        """A JSON snapshot (stored on the order)."""
        return {
            "currency": self.currency,
            "lines": [_line_json(x) for x in self.lines],
            "tax_lines": [
                {
                    "rule_id": t.rule_id,
                    "name": t.name,
                    "rate": str(t.rate),
                    "included": t.included,
                    "amount_minor": t.amount.amount_minor,
                }
                for t in self.tax_lines
            ],
            "promotions": [
                {
                    "promotion_id": p.promotion_id,
                    "code": p.code,
                    "amount_minor": p.amount.amount_minor,
                }
                for p in self.promotions
            ],
            **{
                f"{k}_minor": getattr(self, k).amount_minor
                for k in ("subtotal", "discount", "net", "tax", "total", "bonus", "amount_due")
            },
            "reverse_charge": self.reverse_charge,
            "bonus_points": self.bonus_points,
            "earn_points": self.earn_points,
        }


def _line_json(x: QuoteLine) -> dict[str, Any]:
    return {
        "item": x.item_key,
        "kind": x.kind,
        "code": x.code,
        "description": x.description,
        "quantity": x.quantity,
        "unit_price_minor": x.unit_price.amount_minor,
        "gross_minor": x.gross.amount_minor,
        "discount_minor": x.discount.amount_minor,
        "net_minor": x.net.amount_minor,
        "tax_minor": x.tax.amount_minor,
        "tax_added_minor": x.tax_added.amount_minor,
        "tax_rate": str(x.tax_rate),
        "total_minor": x.total.amount_minor,
        "reason": x.reason,
        "discount_reasons": list(x.discount_reasons),
    }


def _sum(values: Any, currency: str) -> Money:
    total = Money.zero(currency)
    for v in values:
        total = total + v
    return total


# -- the function -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Work:
    """A line being discounted: its list data and what is left of it."""

    item: QuoteItemInput
    base: PriceLine  # in the quote currency, opening share applied
    left: int
    reasons: list[str]


def calculate_quote(q: QuoteInput) -> Quote:
    """Price ``q`` (pure; see the module docstring for the rules)."""
    works: list[_Work] = []
    applied: dict[int, int] = {}
    for item in q.items:
        item_works = [_Work(item, ln, ln.amount.amount_minor, []) for ln in _list_lines(q, item)]
        for promo_id, amount in _discount_item(q, item_works).items():
            applied[promo_id] = applied.get(promo_id, 0) + amount
        works.extend(item_works)
    lines, tax_lines = _taxed_lines(q, works)
    return _assemble(q, lines, tax_lines, applied)


def _list_lines(q: QuoteInput, item: QuoteItemInput) -> list[PriceLine]:
    info = item.tariff
    lines = price_tariff(
        info,
        period=item.period,
        addon_values=item.addon_values,
        currency=info.currency,
        parameters=item.parameters,
        include_setup=item.include_setup,
        require_parameters=item.require_parameters,
    )
    out = []
    for ln in lines:
        if item.fraction != 1 and ln.kind != LineKind.SETUP:
            ln = _share(ln, item.fraction)
        if info.currency != q.currency:
            ln = _convert(ln, item, q.currency)
        out.append(ln)
    return out


def _share(ln: PriceLine, fraction: Fraction) -> PriceLine:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(ln.amount.amount_minor) * fraction.numerator / fraction.denominator
    amount = Money(round_minor(exact), ln.amount.currency)
    share = f"{fraction.numerator}/{fraction.denominator}"
    return replace(ln, amount=amount, reason=f"{ln.reason}; opening share {share} of the period")


def _convert(ln: PriceLine, item: QuoteItemInput, currency: str) -> PriceLine:
    rate = item.rate
    if rate is None or rate.target != currency:
        raise ValueError(f"item {item.key} needs a {item.tariff.currency}->{currency} rate")
    how = f"1/{rate.rate}" if rate.inverse else f"{rate.rate}"
    return replace(
        ln,
        unit_price=apply_rate(ln.unit_price, rate),
        amount=apply_rate(ln.amount, rate),
        reason=f"{ln.reason}; converted from {ln.amount} at {how}",
    )


# -- discounts --------------------------------------------------------------------------------


def _matches(d: DiscountInfo, item: QuoteItemInput, ln: PriceLine, currency: str) -> bool:
    if d.kind == DiscountKind.FIXED and d.currency != currency:
        return False
    if d.tariff_id is not None and d.tariff_id != item.tariff.id:
        return False
    if d.target == DiscountTarget.ALL:
        return True
    if d.target == DiscountTarget.TARIFF:
        return ln.kind == LineKind.TARIFF
    if d.target == DiscountTarget.PERIOD:
        return ln.kind != LineKind.SETUP and item.period == d.period
    if d.target == DiscountTarget.ADDON:
        return ln.kind == LineKind.ADDON and ln.code == d.addon
    return False


def _cut(d: DiscountInfo, left: int) -> int:
    if d.kind == DiscountKind.PERCENT:
        return min(left, round_minor(Decimal(left) * d.percent / 100))
    return min(left, d.amount_minor)


def _apply(p: PromotionInfo, works: list[_Work], currency: str, write: bool) -> int:
    """Discount of ``p`` on ``works`` (applied in place when ``write``)."""
    total = 0
    lefts = [w.left for w in works]
    for d in p.discounts:
        for i, w in enumerate(works):
            if lefts[i] <= 0 or not _matches(d, w.item, w.base, currency):
                continue
            cut = _cut(d, lefts[i])
            if cut <= 0:
                continue
            lefts[i] -= cut
            total += cut
            if write:
                label = f"{d.percent.normalize():f}%" if d.kind == DiscountKind.PERCENT else "fixed"
                w.reasons.append(f"{p.name}{f' ({p.code})' if p.code else ''}: -{cut} ({label})")
    if write:
        for i, w in enumerate(works):
            w.left = lefts[i]
    return total


def _discount_item(q: QuoteInput, works: list[_Work]) -> dict[int, int]:
    cands = [p for p in q.promotions if _apply(p, works, q.currency, write=False) > 0]
    stackable = [p for p in cands if p.stackable]
    options: list[list[PromotionInfo]] = [[p] for p in cands if not p.stackable]
    if stackable:
        options.insert(0, stackable)
    if not options:
        return {}
    best = max(options, key=lambda opt: _trial(opt, works, q.currency))
    return {p.id: _apply(p, works, q.currency, write=True) for p in best}


def _trial(option: list[PromotionInfo], works: list[_Work], currency: str) -> int:
    copies = [_Work(w.item, w.base, w.left, []) for w in works]
    return sum(_apply(p, copies, currency, write=True) for p in option)


# -- tax and totals ---------------------------------------------------------------------------


def _taxed_lines(q: QuoteInput, works: Sequence[_Work]) -> tuple[list[QuoteLine], list[TaxLine]]:
    cur = q.currency
    lines: list[QuoteLine] = []
    per_rule: dict[int, tuple[TaxRuleInfo, int]] = {}
    for w in works:
        rules = rules_for_product(q.tax_rules, w.item.tariff.product_type)
        taxes, added = tax_line(w.left, rules)
        for t in taxes:
            prev = per_rule.get(t.rule.id, (t.rule, 0))[1]
            per_rule[t.rule.id] = (t.rule, prev + t.amount_minor)
        ln = w.base
        lines.append(
            QuoteLine(
                item_key=w.item.key,
                kind=str(ln.kind),
                code=ln.code,
                description=ln.description,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                gross=ln.amount,
                discount=Money(ln.amount.amount_minor - w.left, cur),
                net=Money(w.left, cur),
                tax=Money(sum(t.amount_minor for t in taxes), cur),
                tax_added=Money(added, cur),
                tax_rate=sum((r.rate for r in rules), Decimal(0)),
                total=Money(w.left + added, cur),
                reason=ln.reason,
                discount_reasons=tuple(w.reasons),
            )
        )
    tax_lines = [
        TaxLine(r.id, r.name, r.rate, r.included, Money(amount, cur))
        for r, amount in per_rule.values()
    ]
    return lines, tax_lines


def _assemble(
    q: QuoteInput, lines: list[QuoteLine], tax_lines: list[TaxLine], applied: dict[int, int]
) -> Quote:
    cur = q.currency
    total = _sum((x.total for x in lines), cur)
    bonus_points = earn_points = 0
    if q.bonus is not None:
        plan = q.bonus.redeem(total.amount_minor)
        bonus, bonus_points = Money(plan.amount_minor, cur), plan.points
        earn_points = q.bonus.earn(cur, charge_lines(q, lines))
    else:
        bonus = q.bonus_redemption(total)
    bonus = Money(max(0, min(bonus.amount_minor, total.amount_minor)), cur)
    by_id = {p.id: p for p in q.promotions}
    return Quote(
        currency=cur,
        lines=tuple(lines),
        tax_lines=tuple(tax_lines),
        promotions=tuple(
            AppliedPromotion(pid, by_id[pid].code, by_id[pid].code_id, Money(amount, cur))
            for pid, amount in applied.items()
            if amount > 0
        ),
        subtotal=_sum((x.gross for x in lines), cur),
        discount=_sum((x.discount for x in lines), cur),
        net=_sum((x.net for x in lines), cur),
        tax=_sum((x.tax for x in lines), cur),
        total=total,
        bonus=bonus,
        amount_due=total - bonus,
        reverse_charge=q.reverse_charge,
        bonus_points=bonus_points,
        earn_points=earn_points,
    )


def charge_lines(q: QuoteInput, lines: Sequence[QuoteLine]) -> list[ChargeLine]:
    """Each item's amount net of tax (net less the included tax), as the bonus rules see it."""
    out = []
    for item in q.items:
        mine = [x for x in lines if x.item_key == item.key]
        net = sum(
            x.net.amount_minor - (x.tax.amount_minor - x.tax_added.amount_minor) for x in mine
        )
        out.append(ChargeLine(item.key, net, item.tariff.id, item.tariff.product_type))
    return out
