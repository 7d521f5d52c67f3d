"""Order reads: build the typed ``QuoteInput`` (fetch once), quote a cart, checkout defaults."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from billow.accounts.models import Client, Payer
from billow.accounts.selectors import get_client_scope
from billow.billing.proration import opening_span
from billow.billing.wallet import read_wallet
from billow.catalog import cache as catalog_cache
from billow.catalog.models import Tariff
from billow.catalog.pricing import TariffInfo
from billow.catalog.rates import find_rate
from billow.core import clock
from billow.core.money import Money
from billow.core.periods import Period
from billow.inventory.publish import build_from_addons, is_configurable
from billow.inventory.selectors import checked
from billow.invoicing.selectors import list_tax_rules_for_payer
from billow.invoicing.vat import reverse_charge_applies
from billow.marketing.bonus.selectors import get_bonus_terms
from billow.marketing.promos.rules import PromotionInfo
from billow.marketing.promos.selectors import (
    check_promo_code,
    get_client_facts,
    list_auto_promotions,
)
from billow.orders.errors import OrderError
from billow.orders.models import Cart, Order, OrderStatus
from billow.orders.quote import Quote, QuoteInput, QuoteItemInput, calculate_quote
from billow.orders.trials import check_trials_available


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """An item to quote: a tariff configured by the client."""

    key: str
    tariff_id: int
    period: str
    addon_values: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    quick: bool = False


def has_paid_order(client: Client) -> bool:
    return Order.objects.filter(client=client, status=OrderStatus.PAID).exists()


def _tariff_info(tariff: Tariff, currency: str, default_currency: str, token: str) -> TariffInfo:
    info = catalog_cache.tariff_info(tariff.pk, currency, token)
    if info.prices or default_currency == currency:
        return info
    return catalog_cache.tariff_info(tariff.pk, default_currency, token)


def _item(
    spec: ItemSpec, tariff: Tariff, currency: str, group_ids: list[int], now: datetime, token: str
) -> QuoteItemInput:
    info = _tariff_info(tariff, currency, tariff.provider.default_currency, token)
    rate = None
    if info.currency != currency:
        rate = find_rate(info.currency, currency, on=now.date(), group_ids=group_ids)
    fraction = Fraction(1)  # a trial is free (and refused by pricing when not offered)
    if spec.period != Period.TRIAL:
        _, _, fraction = opening_span(now, spec.period, info.billing_mode, info.prorata_day)
    return QuoteItemInput(
        key=spec.key,
        tariff=info,
        period=spec.period,
        addon_values=dict(spec.addon_values),
        parameters=dict(spec.parameters),
        require_parameters=not spec.quick,
        rate=rate,
        fraction=fraction,
    )


def payer_location(client: Client, payer: Payer | None) -> tuple[str, str]:
    if payer is None:
        return client.country, ""
    return (
        payer.legal_country or payer.country or client.country,
        payer.legal_region or payer.region,
    )


def build_quote_input(
    *,
    client: Client,
    provider_id: int,
    currency: str,
    items: Sequence[ItemSpec],
    promo_code: str = "",
    payer: Payer | None = None,
    now: datetime | None = None,
    ignore_reference: str = "",
    bonus_points: int | None = 0,
) -> QuoteInput:
    """Fetch everything the quote needs: tariffs (visibility checked, a trial taken before
    refused: ``trial_already_used``), rates, opening shares, eligible promotions (automatic
    ones and ``promo_code``), the payer's tax rules, the bonus terms (``bonus_points`` the
    client wants to pay with: 0 none, None as many as allowed)."""
    moment = clock.now(now)
    group_ids = list(get_client_scope(client).group_ids)
    token = catalog_cache.current_token()
    visible = catalog_cache.orderable_tariff_ids(provider_id, group_ids, token)
    tariffs = catalog_cache.tariffs([s.tariff_id for s in items], token)
    quote_items = []
    for spec in items:
        if spec.tariff_id not in visible or spec.tariff_id not in tariffs:
            raise OrderError("this tariff cannot be ordered", code="tariff_not_available")
        if is_configurable(spec.addon_values):
            # a server of the client's own configuration: refused with every reason
            checked(build_from_addons(spec.addon_values))
        quote_items.append(_item(spec, tariffs[spec.tariff_id], currency, group_ids, moment, token))
    check_trials_available(
        client_id=client.pk, provider_id=provider_id, items=items, tariffs=tariffs
    )
    facts = functools.cache(
        lambda: get_client_facts(client, has_paid_order=has_paid_order(client), group_ids=group_ids)
    )  # fetched only when a promotion is there to check
    promos: list[PromotionInfo] = list_auto_promotions(
        provider_id=provider_id, client=client, facts=facts, now=moment
    )
    if promo_code:
        promos.append(
            check_promo_code(
                provider_id=provider_id,
                code=promo_code,
                client=client,
                facts=facts,
                now=moment,
                ignore_reference=ignore_reference,
            )
        )
    country, region = payer_location(client, payer)
    rules = list_tax_rules_for_payer(
        provider_id=provider_id,
        group_ids=group_ids,
        country=country,
        region=region,
        client_id=client.pk,
    )
    reverse = payer is not None and reverse_charge_applies(provider_id, payer)
    bonus = get_bonus_terms(
        provider_id=provider_id,
        client_id=client.pk,
        currency=currency,
        trigger=None,
        on=moment.date(),
        group_ids=group_ids,
        paid_orders_before=lambda: count_paid_orders(client.pk),
        requested_points=bonus_points,
    )
    return QuoteInput(
        currency=currency,
        items=tuple(quote_items),
        promotions=tuple(promos),
        tax_rules=() if reverse else rules,  # EU B2B: the buyer accounts for the VAT
        reverse_charge=reverse,
        bonus=bonus,
    )


def count_paid_orders(client_id: int) -> int:
    """Paid orders of the client (the bonus rules' first / repeat / n-th purchase)."""
    return Order.objects.filter(client_id=client_id, status=OrderStatus.PAID).count()


def cart_specs(cart: Cart) -> list[ItemSpec]:
    return [
        ItemSpec(f"i{i.pk}", i.tariff_id, i.period, i.addon_values, i.parameters, i.quick)
        for i in cart.items.all()
    ]


def get_cart(client: Client, provider_id: int) -> Cart | None:
    return Cart.objects.filter(client=client, provider_id=provider_id).first()


def get_cart_quote(
    *,
    client: Client,
    provider_id: int,
    promo_code: str = "",
    payer: Payer | None = None,
    now: datetime | None = None,
    bonus_points: int | None = 0,
) -> Quote:
    """The cart priced now (what the final checkout step shows; recomputed on a code)."""
    cart = get_cart(client, provider_id)
    if cart is None or not cart.items.exists():
        raise OrderError("the cart is empty", code="cart_empty")
    return calculate_quote(
        build_quote_input(
            client=client,
            provider_id=provider_id,
            currency=cart.currency,
            items=cart_specs(cart),
            promo_code=promo_code,
            payer=payer,
            now=now,
            bonus_points=bonus_points,
        )
    )


@dataclass(frozen=True, slots=True)
class CheckoutDefaults:
    """What the shorter checkout preselects: the payer and payment method of the client's last
    paid order (both None before the first one); ``skip_to_final_step`` when both exist.
    ``payment_method`` is a method id in text, or ``PAID_FROM_BALANCE``."""

    payer: Payer | None
    payment_method: str
    skip_to_final_step: bool


def get_checkout_defaults(client: Client) -> CheckoutDefaults:
    last = (
        Order.objects.filter(client=client, status=OrderStatus.PAID)
        .exclude(payment_method="")
        .select_related("payer")
        .order_by("-paid_at", "-id")
        .first()
    )
    if last is None:
        return CheckoutDefaults(None, "", False)
    payer = last.payer if last.payer and last.payer.is_active else None
    return CheckoutDefaults(payer, last.payment_method, payer is not None)


def list_open_orders(client_id: int, currency: str) -> list[Order]:
    return list(
        Order.objects.filter(
            client_id=client_id, currency=currency, status=OrderStatus.AWAITING_PAYMENT
        ).order_by("created_at", "id")
    )


def get_available_balance(client_id: int, provider_id: int, currency: str) -> tuple[int, bool]:
    """What the balance with ``provider_id`` can pay in ``currency`` now, read without a lock:
    balance plus credit limit (never below 0), and whether the client is post-paid (may always
    pay). For display and pre-checks; checkout decides under the balance lock."""
    wallet = read_wallet(client_id, provider_id, currency)
    return max(0, wallet.available_minor), wallet.postpaid


def get_order_shortfall(order: Order) -> Money:
    """What is still to pay for an order awaiting payment: its total less what the balance
    (plus credit) covers now; zero for a post-paid client and for any other status."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return Money.zero(order.currency)
    available, postpaid = get_available_balance(order.client_id, order.provider_id, order.currency)
    if postpaid:
        return Money.zero(order.currency)
    return Money(max(0, order.total_minor - available), order.currency)
