"""The tax of every movement between a client's balance and revenue: the checkout's rules.

A charge is taxed like a checkout line (``billow.invoicing.tax``, through
``invoicing.selectors.list_tax_rules_for_payer``): the provider's active rules, the client
group's rules in their place when the client's group has any, the payer's country and region
(the client's document payer, ``invoicing.selectors.get_document_payers``, else the client's
country), per line the rules of the service's product type, included or added, rounded once
per line and rule. EU business payers with a valid VAT number in another member state than the
provider's pay no VAT (reverse charge, ``billow.invoicing.vat``).

A refund or credit gives back the tax of the days it refunds: the share of the tax charged for
the service over those days that its amount is of what was charged, never more than is left
of it after earlier refunds.

Set-based: a billing-run chunk costs a few queries (payers, groups, product types), none when
the providers have no tax rules at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billow.accounts.models import Client, ClientGroupMembership, Payer
from billow.billing.models import Expense, ExpenseKind
from billow.billing.wallet.money import NO_TAX, ItemTax, MoneyItem, with_tax
from billow.core.money import round_minor
from billow.invoicing.selectors import (
    PAYER_BATCH,
    get_document_payers,
    list_provider_tax_rules,
    list_tax_rules_for_payer,
)
from billow.invoicing.tax import TaxRuleInfo, rules_for_product, tax_line
from billow.invoicing.vat import reverse_charge_applies
from billow.services.models import Service


@dataclass(frozen=True, slots=True)
class PayerTaxInfo:
    """What the rules of one client's charges depend on."""

    group_ids: tuple[int, ...]
    country: str
    region: str
    reverse_charge: bool = False


def price_items_tax(items: Sequence[MoneyItem]) -> list[MoneyItem]:
    """``items`` with the tax of those that have none priced (see the module docstring)."""
    charges = [n for n, x in enumerate(items) if x.tax is None and x.is_charge]
    backs = [n for n, x in enumerate(items) if x.tax is None and not x.is_charge]
    out = list(items)
    if charges:
        for n, tax in zip(charges, charge_taxes([items[n] for n in charges]), strict=True):
            out[n] = with_tax(items[n], tax)
    if backs:
        for n, tax in zip(backs, refund_taxes([items[n] for n in backs]), strict=True):
            out[n] = with_tax(items[n], tax)
    return out


def charge_taxes(items: Sequence[MoneyItem]) -> list[ItemTax]:
    """The tax of each charge, by the rules of its provider, payer and product type."""
    providers = {x.wallet_key[1] for x in items}
    provider_rules = {p: list_provider_tax_rules(p) for p in providers}
    taxed = [x for x in items if provider_rules[x.wallet_key[1]] and x.amount_minor]
    if not taxed:
        return [NO_TAX] * len(items)
    payers = payer_tax_info({(x.wallet_key[0], x.wallet_key[1]) for x in taxed})
    needs_product = {
        x.service_id for x in taxed if any(r.product_type for r in provider_rules[x.wallet_key[1]])
    }
    product_types = _product_types(needs_product)
    out = []
    for x in items:
        rules_all = provider_rules[x.wallet_key[1]]
        if not rules_all or not x.amount_minor:
            out.append(NO_TAX)
            continue
        who = payers[(x.wallet_key[0], x.wallet_key[1])]
        if who.reverse_charge:
            out.append(ItemTax(reverse_charge=True))
            continue
        rules = list_tax_rules_for_payer(
            provider_id=x.wallet_key[1],
            group_ids=who.group_ids,
            country=who.country,
            region=who.region,
        )
        out.append(line_tax(x.amount_minor, rules, product_types.get(x.service_id, "")))
    return out


def line_tax(amount_minor: int, rules: Sequence[TaxRuleInfo], product_type: str) -> ItemTax:
    """The checkout's per-line tax of ``amount_minor`` for a product type (pure)."""
    applied = rules_for_product(rules, product_type)
    if not applied:
        return NO_TAX
    taxes, added = tax_line(amount_minor, applied)
    return ItemTax(
        tax_minor=sum(t.amount_minor for t in taxes),
        tax_added_minor=added,
        rate=sum((r.rate for r in applied), Decimal(0)),
    )


def payer_tax_info(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], PayerTaxInfo]:
    """Per (client, provider): the client's groups, its payer's place and whether reverse
    charge applies. Two queries per ``PAYER_BATCH`` clients."""
    client_ids = sorted({c for c, _p in pairs})
    payers = get_document_payers(client_ids)
    groups: dict[int, list[int]] = defaultdict(list)
    countries: dict[int, str] = {}
    for start in range(0, len(client_ids), PAYER_BATCH):
        batch = client_ids[start : start + PAYER_BATCH]
        memberships = ClientGroupMembership.objects.filter(client_id__in=batch)
        for client_id, group_id in memberships.values_list("client_id", "group_id"):
            groups[client_id].append(group_id)
        countries.update(Client.objects.filter(pk__in=batch).values_list("pk", "country"))
    out = {}
    for client_id, provider_id in pairs:
        payer = payers.get(client_id)
        country, region = payer_place(payer, countries.get(client_id, ""))
        out[(client_id, provider_id)] = PayerTaxInfo(
            tuple(sorted(groups[client_id])),
            country,
            region,
            payer is not None and reverse_charge_applies(provider_id, payer),
        )
    return out


def payer_place(payer: Payer | None, client_country: str) -> tuple[str, str]:
    """The country and region tax rules look at (the checkout's ``payer_location``)."""
    if payer is None:
        return client_country, ""
    return (
        payer.legal_country or payer.country or client_country,
        payer.legal_region or payer.region,
    )


def _product_types(service_ids: set[int]) -> dict[int, str]:
    ids = sorted(service_ids)
    out: dict[int, str] = {}
    for start in range(0, len(ids), PAYER_BATCH):
        out.update(
            Service.objects.filter(pk__in=ids[start : start + PAYER_BATCH]).values_list(
                "pk", "tariff__product_type__intname"
            )
        )
    return out


def refund_taxes(items: Sequence[MoneyItem]) -> list[ItemTax]:
    """The tax each refund or credit gives back (see the module docstring)."""
    rows = Expense.objects.filter(service_id__in={x.service_id for x in items}).values_list(
        "service_id",
        "kind",
        "period_from",
        "period_to",
        "amount_minor",
        "tax_minor",
        "tax_added_minor",
        "tax_rate",
        "reverse_charge",
    )
    by_service: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        by_service[r[0]].append(r)
    return [_refund_tax(x, by_service[x.service_id]) for x in items]


def _refund_tax(item: MoneyItem, rows: list[tuple[Any, ...]]) -> ItemTax:
    charged = [0, 0, 0]  # amount, tax, added
    back = [0, 0, 0]
    rate, reverse = Decimal(0), False
    for _sid, kind, start, end, amount, tax, added, r, rc in rows:
        if not (end > item.period_from and start < item.period_to):
            continue
        into = charged if kind == ExpenseKind.CHARGE else back
        into[0], into[1], into[2] = into[0] + amount, into[1] + tax, into[2] + added
        if kind == ExpenseKind.CHARGE:
            rate, reverse = r, rc
    if not charged[0] or not charged[1]:
        return ItemTax(rate=rate, reverse_charge=reverse)
    left_tax, left_added = charged[1] - back[1], charged[2] - back[2]
    tax = max(0, min(left_tax, round_minor(Decimal(item.amount_minor) * charged[1] / charged[0])))
    added = max(0, min(left_added, tax, round_minor(Decimal(tax) * charged[2] / charged[1])))
    return ItemTax(tax_minor=tax, tax_added_minor=added, rate=rate, reverse_charge=reverse)
