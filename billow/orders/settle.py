"""Settling a paid order inside the caller's transaction, with the client balance locked.

Money per order (all keyed, so a replay posts nothing twice):
- each item: a period ``Expense`` of the item's net amount (after discounts, opening share
  included) from the client balance to provider revenue, keyed ``charge:<service>:<from>``
  like billing's opening charge (the billing run then renews from ``paid_until``);
- added tax: client balance -> tax payable, keyed ``order:<id>:tax``;
- included tax: provider revenue -> tax payable, keyed ``order:<id>:tax_included``.
So the client balance falls by exactly the order total.

Why not ``billing.actions.charge_opening``: it opens its own durable transaction and charges the
list price, so it cannot run inside the checkout transaction that also locks the balance and
applies the quote's discounts (see the report: a non-durable variant would let us reuse it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Subquery

from billow.accounts.models import Client, Provider
from billow.billing.models import ClientBillingSettings, ExpenseKind, ExpenseReason
from billow.billing.plan import charge_key
from billow.billing.proration import is_calendar, opening_period
from billow.billing.writes import MoneyItem, revenue_account, write_money
from billow.catalog import cache as catalog_cache
from billow.core.actors import Actor
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, TransactionKind
from billow.ledger.selectors import get_account_id, get_or_create_account, remember_currency
from billow.marketing.promo_actions import confirm_promo_uses
from billow.orders.models import Order, OrderItem, OrderStatus
from billow.services.actions import create_service, request_operation, transition_service
from billow.services.models import Service
from billow.services.states import ServiceStatus


@dataclass(slots=True)
class Wallet:
    account_id: int
    balance_minor: int
    credit_limit_minor: int
    postpaid: bool

    def can_pay(self, amount_minor: int) -> bool:
        return self.postpaid or self.balance_minor + self.credit_limit_minor >= amount_minor


def lock_wallet(client_id: int, provider_id: int, currency: str) -> Wallet:
    """Lock the client's balance account (created if missing): the first lock of every
    money-moving use case, shared with billing."""
    terms = ClientBillingSettings.objects.filter(client_id=client_id, currency=currency)
    mine = (
        LedgerAccount.objects.select_for_update(of=("self",))
        .filter(
            kind=AccountKind.CLIENT_BALANCE,
            currency=currency,
            client_id=client_id,
            provider_id=provider_id,
        )
        .annotate(
            limit=Subquery(terms.values("credit_limit_minor")[:1]),
            postpaid=Subquery(terms.values("postpaid")[:1]),
        )
        .values_list("pk", "balance_minor", "limit", "postpaid")
    )  # one statement: the lock and the client's credit terms
    row = mine.first()
    if row is None:  # the first money of this client in this currency
        get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE,
            currency=currency,
            client=Client(pk=client_id),
            provider=Provider(pk=provider_id),
        )
        row = mine.get()
    account_id, balance, limit, postpaid = row
    remember_currency(account_id, currency)  # the charge's legs name it by id
    return Wallet(account_id, int(balance), int(limit or 0), bool(postpaid))


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
    the caller has them at hand."""
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
    )
    _charge(order, item, svc, wallet, start, end, now=now, actor=actor)
    item.service = svc
    item.save(update_fields=["service"])
    if item.quick:
        transition_service(
            service=svc,
            to=ServiceStatus.CONFIGURATION_REQUIRED,
            actor=actor,
            reason=f"quick order {order.pk}",
            now=now,
        )
    elif svc.module_instance_id is not None:
        request_operation(
            service=svc,
            operation="open",
            actor=actor,
            key=f"order:{order.pk}:open:{svc.pk}",
            now=now,
            service_is_new=True,
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
    key = (order.client_id, order.provider_id, order.currency)
    money = MoneyItem(
        svc.pk,
        key,
        ExpenseKind.CHARGE,
        ExpenseReason.PERIOD,
        charge_key(svc.pk, start),
        start,
        end,
        item.net_minor,
        f"order {order.pk}",
    )
    write_money([money], {key: wallet.account_id}, now=now, actor=actor)


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
            legs=[(wallet.account_id, -added), (payable, added)],
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
