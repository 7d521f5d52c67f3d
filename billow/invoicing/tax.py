"""Taxes: the pure per-line computation the quote uses, and the rule selection.

Rounding policy (one, documented): tax is computed **per line and per rule**, on the line's
net amount (after discounts), and rounded once, half up, by ``billow.core.money.round_minor``;
document tax is the sum of the line taxes. So three 0.10 lines at 5 % carry 0.01 tax each
(0.03 in all), not 0.02 (which per-document rounding of 0.015 would give).

- Added tax (``included=False``): ``tax = round(net x rate / 100)``, the line total is
  ``net + tax``.
- Included tax: ``tax = round(net x rate / (100 + R))`` with ``R`` the sum of the included
  rates of the line; the line total stays ``net``.

Rule selection (reference §1.16), in ``select_rules``: a client's personal rules replace all
others when it has any; client-group rules replace the provider's rules when the client is in a
group that has any; rules for the payer's country beat
rules for any country; a country rule with a region applies only to that region and is summed
with the federal (region-less) ones; per line, rules for the line's product type beat rules for
any product type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billow.core.money import round_minor


@dataclass(frozen=True, slots=True)
class TaxRuleInfo:
    id: int
    name: str
    rate: Decimal
    included: bool
    product_type: str = ""
    country: str = ""
    region: str = ""
    client_group_id: int | None = None
    client_id: int | None = None  # a personal rate


@dataclass(frozen=True, slots=True)
class LineTax:
    rule: TaxRuleInfo
    amount_minor: int


def select_rules(
    rules: Iterable[TaxRuleInfo],
    *,
    group_ids: Iterable[int],
    country: str,
    region: str,
    client_id: int | None = None,
) -> tuple[TaxRuleInfo, ...]:
    """The rules that apply to a payer of client ``client_id`` (pure; see the module
    docstring)."""
    groups = set(group_ids)
    all_rules = list(rules)
    personal = [r for r in all_rules if client_id is not None and r.client_id == client_id]
    general = [r for r in all_rules if r.client_id is None]
    mine = [r for r in general if r.client_group_id in groups]
    pool = personal or mine or [r for r in general if r.client_group_id is None]
    by_country = [r for r in pool if country and r.country == country]
    if by_country:
        return tuple(r for r in by_country if not r.region or r.region == region)
    return tuple(r for r in pool if not r.country)


def rules_for_product(rules: Sequence[TaxRuleInfo], product_type: str) -> tuple[TaxRuleInfo, ...]:
    specific = tuple(r for r in rules if r.product_type == product_type)
    return specific or tuple(r for r in rules if not r.product_type)


def tax_line(net_minor: int, rules: Sequence[TaxRuleInfo]) -> tuple[list[LineTax], int]:
    """Taxes of one line and the amount added on top of ``net_minor``."""
    included_rate = sum((r.rate for r in rules if r.included), Decimal(0))
    out: list[LineTax] = []
    added = 0
    for r in rules:
        if r.included:
            amount = round_minor(Decimal(net_minor) * r.rate / (100 + included_rate))
        else:
            amount = round_minor(Decimal(net_minor) * r.rate / 100)
            added += amount
        out.append(LineTax(r, amount))
    return out, added
