"""Settling a paid order inside the caller's transaction, with the client balance locked.

Money per order (all keyed, so a replay posts nothing twice):
- each item: a period ``Expense`` of the item's net amount (after discounts, opening share
  included) from the client balance to provider revenue, keyed ``charge:<service>:<from>``
  like billing's opening charge (the billing run then renews from ``paid_until``);
- added tax: client balance -> tax payable, keyed ``order:<id>:tax``;
- included tax: provider revenue -> tax payable, keyed ``order:<id>:tax_included``.
So the client balance falls by exactly the order total.

The wallet is billing's (``billow.billing.wallet``): the caller locked it with ``lock_wallet``,
and every charge here goes through its ``move_money`` under the period key the billing run
renews from. The checkout prices the first period itself (the quote, with its discounts), so it
charges that amount rather than ``billing.actions.charge_opening``'s list price.
"""

from __future__ import annotations

from datetime import date, datetime

from billow.accounts.models import Client
from billow.billing.proration import is_calendar, opening_period
from billow.billing.wallet import NO_TAX, MoneyItem, Wallet, move_money, revenue_account
from billow.catalog import cache as catalog_cache
from billow.core.actors import Actor
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.selectors import get_account_id
from billow.marketing.promo_actions import confirm_promo_uses
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
) -> None:
    """Create and charge the services of ``order`` (locked, unpaid), post its tax, set it
    paid and confirm its promo uses. The caller checked ``wallet.can_pay(order.total)`` and
    saves ``order`` (``status``, ``paid_at``). ``client`` and ``items`` save their reads when
    the caller has them at hand; items not yet saved (no pk) get their service set and are left
    for the caller to insert (once, with it)."""
    client = client or Client.objects.get(pk=order.client_id)
    if items is None:
        items = list(order.items.select_related("tariff"))
    else:
        tariffs = catalog_cache.tariffs(i.tariff_id for i in items)
        for item in items:
            item.tariff = tariffs[item.tariff_id]
    for item in items:
        _settle_item(order, item, client, wallet, now=now, actor=actor)
    _post_tax(order, items, wallet, actor)
    order.status, order.paid_at = OrderStatus.PAID, now
    if order.discount_minor or order.promo_code_id:
        confirm_promo_uses(reference=order.payment_reference, now=now)
    wallet.balance_minor -= order.total_minor


def _settle_item(
    order: Order,
    item: OrderItem,
    client: Client,
    wallet: Wallet,
    *,
    now: datetime,
    actor: Actor | None,
) -> None:
    tariff = item.tariff  # loaded by the caller or with the items (select_related)
    start, end, _ = opening_period(now.date(), item.period, tariff.billing_mode, tariff.prorata_day)
    svc = create_service(
        client=client,
        tariff=tariff,
        period=item.period,
        currency=order.currency,
        addon_values=item.addon_values,
        parameters=item.parameters,
        defer_parameters=item.quick,
        auto_renew_period=item.period,  # renewed every period until the client turns it off
        paid_until=end,  # charged just below, in this transaction
        anchor_day=1 if is_calendar(item.period, tariff.billing_mode) else start.day,
        actor=actor,
        now=now,
        # Not quick: open it at once when a module serves it, as
        # request_operation(operation="open", service_is_new=True) would, in fewer statements.
        open_key=None if item.quick else (lambda pk: f"order:{order.pk}:open:{pk}"),
    )
    _charge(order, item, svc, wallet, start, end, now=now, actor=actor)
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


def _charge(
    order: Order,
    item: OrderItem,
    svc: Service,
    wallet: Wallet,
    start: date,
    end: date,
    *,
    now: datetime,
    actor: Actor | None,
) -> None:
    """The first period [start, end) of ``svc`` (created paid until ``end``)."""
    money = MoneyItem.period_charge(
        service_id=svc.pk,
        wallet_key=(order.client_id, order.provider_id, order.currency),
        period_from=start,
        period_to=end,
        amount_minor=item.net_minor,
        description=f"order {order.pk}",
        tax=NO_TAX,  # the order posts its tax itself (_post_tax) and its invoice documents it
    )
    move_money(money, wallet.account, now=now, actor=actor, documents=False)


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
