"""Settling a paid order inside the caller's transaction, with the client balance locked.

Money per order (all keyed, so a replay posts nothing twice):
- each item: a period ``Expense`` of the item's net amount (after discounts, opening share
  included) from the client balance to provider revenue, keyed ``charge:<service>:<from>``
  like billing's opening charge (the billing run then renews from ``paid_until``); a trial's
  is a zero charge; an hourly service's first hour is keyed per service-hour
  (``billing.wallet.hour_charge_key``) and the hourly run charges the next ones;
- added tax: client balance -> tax payable, keyed ``order:<id>:tax``;
- included tax: provider revenue -> tax payable, keyed ``order:<id>:tax_included``.
So the client balance falls by exactly the order total.

The wallet is billing's (``billow.billing.wallet``): the caller locked it with ``lock_wallet``,
and every charge here goes through its ``move_money`` under the period key the billing run
renews from. The checkout prices the first period itself (the quote, with its discounts), so it
charges that amount rather than ``billing.actions.charge_opening``'s list price.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from billow.accounts.models import Client
from billow.billing.proration import is_calendar, opening_span
from billow.billing.wallet import (
    NO_TAX,
    ItemTax,
    MoneyItem,
    Wallet,
    move_money,
    revenue_account,
)
from billow.catalog import cache as catalog_cache
from billow.catalog.models import Tariff
from billow.catalog.pricing import period_after_trial
from billow.core.actors import Actor
from billow.core.periods import Period
from billow.inventory.dedicated import place_service
from billow.inventory.publish import build_from_addons, is_configurable, location_from_addons
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.selectors import get_account_id
from billow.marketing.bonus.actions import (
    ChargeEvent,
    accrue_for_charges,
    record_redemption_charges,
)
from billow.marketing.bonus.rules import ChargeLine, purchase_trigger
from billow.marketing.bonus.selectors import get_enabled_program
from billow.marketing.promos.actions import confirm_promo_uses
from billow.orders.models import Order, OrderItem, OrderStatus
from billow.services.actions import create_service, transition_service
from billow.services.models import Service
from billow.services.states import ServiceStatus


def settle_locked(
    order: Order,
    wallet: Wallet,
    *,
    now: datetime,
    actor: Actor | None,
    client: Client | None = None,
    items: list[OrderItem] | None = None,
    bonus_program: bool | None = None,
) -> list[str]:
    """Create and charge the services of ``order`` (locked, unpaid), post its tax, set it
    paid and confirm its promo uses. The caller checked ``wallet.can_pay(order.total)`` and
    saves ``order`` (``status``, ``paid_at``). ``client`` and ``items`` save their reads when
    the caller has them at hand; items not yet saved (no pk) get their service set and are left
    for the caller to insert (once, with it). ``bonus_program``: whether the provider runs a bonus
    program, when the caller's quote already looked it up (None: look it up). Returns the keys
    of the charges written, for the caller to link to the order's invoice
    (``billing.documents.attach_invoice``)."""
    client = client or Client.objects.get(pk=order.client_id)
    if items is None:
        items = list(order.items.select_related("tariff"))
    else:
        tariffs = catalog_cache.tariffs(i.tariff_id for i in items)
        for item in items:
            item.tariff = tariffs[item.tariff_id]
    keys = [_settle_item(order, item, client, wallet, now=now, actor=actor) for item in items]
    _post_tax(order, items, wallet, actor)
    if bonus_program is not False:
        settle_bonus(order, items, keys, now=now, actor=actor)
    order.status, order.paid_at = OrderStatus.PAID, now
    if order.discount_minor or order.promo_code_id:
        confirm_promo_uses(reference=order.payment_reference, now=now)
    wallet.balance_minor -= order.total_minor
    return keys


@dataclass(frozen=True, slots=True)
class _Opening:
    """How a new service starts: its first paid span, the period it renews for, the anchor
    day of its renewals, and where its paid end is stored (``paid_until_at`` when hourly)."""

    start: date
    end: date
    renew_period: str
    anchor_day: int
    hourly: bool


def _opening(item: OrderItem, tariff: Tariff, currency: str, now: datetime) -> _Opening:
    start, end, _ = opening_span(
        now, item.period, tariff.billing_mode, tariff.prorata_day, trial_days=tariff.trial_days
    )
    if item.period == Period.HOUR:
        return _Opening(start, end, Period.HOUR.value, start.day, hourly=True)
    if item.period == Period.TRIAL:
        # The trial converts at its end to a paid period (the auto-renew period, which the
        # client may change meanwhile); anniversary renewals keep the conversion day.
        after = period_after_trial(catalog_cache.tariff_info(tariff.pk, currency))
        calendar = after and is_calendar(after, tariff.billing_mode)
        return _Opening(start, end, after, 1 if calendar else end.day, hourly=False)
    anchor_day = 1 if is_calendar(item.period, tariff.billing_mode) else start.day
    # renewed every period until the client turns it off
    return _Opening(start, end, item.period, anchor_day, hourly=False)


def _settle_item(
    order: Order,
    item: OrderItem,
    client: Client,
    wallet: Wallet,
    *,
    now: datetime,
    actor: Actor | None,
) -> str:
    tariff = item.tariff  # loaded by the caller or with the items (select_related)
    opening = _opening(item, tariff, order.currency, now)
    # A dedicated server of the client's configuration opens through the inventory: a ready
    # server reserved and provisioned, or "not available" with procurement / assembly Tasks.
    dedicated = not item.quick and is_configurable(item.addon_values)
    svc = create_service(
        client=client,
        tariff=tariff,
        period=item.period,
        currency=order.currency,
        addon_values=item.addon_values,
        parameters=item.parameters,
        defer_parameters=item.quick,
        auto_renew_period=opening.renew_period,
        # charged just below, in this transaction
        paid_until=None if opening.hourly else opening.end,
        paid_until_at=opening.end if isinstance(opening.end, datetime) else None,
        anchor_day=opening.anchor_day,
        actor=actor,
        now=now,
        # Not quick: open it at once when a module serves it, as
        # request_operation(operation="open", service_is_new=True) would, in fewer statements.
        open_key=None if item.quick or dedicated else (lambda pk: f"order:{order.pk}:open:{pk}"),
    )
    if dedicated:
        place_service(
            service=svc,
            chosen=build_from_addons(item.addon_values),
            location=location_from_addons(item.addon_values),
            actor=actor,
            now=now,
        )
    key = _charge(order, item, svc, wallet, opening, now=now, actor=actor)
    item.service = svc
    if item.pk is not None:
        item.save(update_fields=["service"])
    if item.quick:
        transition_service(
            service=svc,
            to=ServiceStatus.CONFIGURATION_REQUIRED,
            actor=actor,
            reason=f"quick order {order.pk}",
            now=now,
        )
    return key


def _charge(
    order: Order,
    item: OrderItem,
    svc: Service,
    wallet: Wallet,
    opening: _Opening,
    *,
    now: datetime,
    actor: Actor | None,
) -> str:
    """The first period [start, end) of ``svc`` (created paid until ``end``): the first hour
    of an hourly service under its service-hour key, else the first period (0 for a trial).
    The expense records the item's tax (a refund gives back its share); the order posts it
    (``_post_tax``) and its invoice documents the charge."""
    wallet_key = (order.client_id, order.provider_id, order.currency)
    tax = item_tax(order, item)
    if opening.hourly:
        assert isinstance(opening.start, datetime)
        money = MoneyItem.hour_charge(
            service_id=svc.pk,
            wallet_key=wallet_key,
            hour_start=opening.start,
            amount_minor=item.net_minor,
            description=f"order {order.pk}",
            tax=tax,
        )
    else:
        money = MoneyItem.period_charge(
            service_id=svc.pk,
            wallet_key=wallet_key,
            period_from=opening.start,
            period_to=opening.end,
            amount_minor=item.net_minor,
            description=f"order {order.pk}",
            tax=tax,
        )
    money = replace(money, post_tax=False)
    move_money(money, wallet.account, now=now, actor=actor, documents=False)
    return money.key


def settle_bonus(
    order: Order, items: list[OrderItem], keys: list[str], *, now: datetime, actor: Actor | None
) -> None:
    """The order's bonus side, once its charges exist: split a redemption over the charges
    (a refund of one returns its share) and accrue the points of the first / repeat purchase
    on each item's amount net of tax, under its charge key, exactly what the quote's
    ``earn_points`` computed. One query without an enabled program."""
    if get_enabled_program(order.provider_id) is None:
        return
    record_redemption_charges(
        reference=order.payment_reference,
        charges=[(key, item.total_minor) for key, item in zip(keys, items, strict=True)],
    )
    before = count_paid_orders(order.client_id)
    lines = tuple(
        ChargeLine(
            key,
            item.net_minor - item_tax(order, item).included_minor,
            item.tariff_id,
            catalog_cache.tariff_info(item.tariff_id, order.currency).product_type,
        )
        for key, item in zip(keys, items, strict=True)
    )
    event = ChargeEvent(
        client_id=order.client_id,
        provider_id=order.provider_id,
        currency=order.currency,
        trigger=purchase_trigger(before),
        lines=lines,
        source=order.payment_reference,
        description=f"order {order.pk}",
        purchase_number=before + 1,
    )
    accrue_for_charges(events=[event], actor=actor, now=now)


def count_paid_orders(client_id: int) -> int:
    """Paid orders of the client before the one being settled (its status is not saved yet)."""
    return Order.objects.filter(client_id=client_id, status=OrderStatus.PAID).count()


def item_tax(order: Order, item: OrderItem) -> ItemTax:
    """An item's tax as the order's quote priced it: all of it, the part added on top, the
    rate (the quote snapshot's lines of the item)."""
    lines = [x for x in order.quote.get("lines", []) if x.get("item") == item.key]
    tax = sum(int(x.get("tax_minor", 0)) for x in lines)
    if order.quote.get("reverse_charge"):
        return ItemTax(reverse_charge=True)
    if not tax:
        return NO_TAX
    rate = max((Decimal(x.get("tax_rate", "0")) for x in lines), default=Decimal(0))
    return ItemTax(tax_minor=tax, tax_added_minor=min(item.tax_added_minor, tax), rate=rate)


def _post_tax(order: Order, items: list[OrderItem], wallet: Wallet, actor: Actor | None) -> None:
    added = sum(i.tax_added_minor for i in items)
    included = order.tax_minor - added
    if not order.tax_minor:
        return
    payable = get_account_id(
        kind=AccountKind.TAX_PAYABLE, currency=order.currency, provider_id=order.provider_id
    )
    ref = order.payment_reference
    if added:
        post_transaction(
            kind=TransactionKind.TAX,
            legs=[(wallet.account, -added), (payable, added)],
            idempotency_key=f"{ref}:tax",
            reference=ref,
            actor=actor,
        )
    if included:
        revenue = revenue_account(order.provider_id, order.currency)
        post_transaction(
            kind=TransactionKind.TAX,
            legs=[(revenue, -included), (payable, included)],
            idempotency_key=f"{ref}:tax_included",
            reference=ref,
            actor=actor,
        )
