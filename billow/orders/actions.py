"""Order use cases: fill the cart, check out, settle from the balance, cancel, configure a
quick-ordered service.

``checkout`` is one durable transaction that locks the client balance first (the one lock
order: balance account, then order, then service), stores the order with its quote snapshot,
reserves the promo use (limits hold under concurrency), issues the invoice and, when the
balance (plus credit limit) covers the total, settles the order at once. Otherwise the order
waits for payment of the shortfall; a paid payment credits the balance and
``settle_open_orders`` settles waiting orders from it, oldest first.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from billow.accounts.models import Client, Payer
from billow.billing.documents import attach_invoice
from billow.billing.wallet import lock_wallet
from billow.catalog import cache as catalog_cache
from billow.catalog.models import Tariff
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.money import Money
from billow.invoicing.actions import InvoiceLineInput, issue_invoice, mark_invoice_paid
from billow.marketing.bonus.actions import redeem_points, return_redeemed_points
from billow.marketing.bonus.selectors import has_redemption
from billow.marketing.promos.actions import release_promo_uses, reserve_promo_use
from billow.marketing.promos.errors import PromoError
from billow.orders import selectors
from billow.orders.errors import OrderConflictError, OrderError
from billow.orders.models import (
    PAID_FROM_BALANCE,
    Cart,
    CartItem,
    Order,
    OrderItem,
    OrderStatus,
)
from billow.orders.quote import Quote, calculate_quote
from billow.orders.settle import settle_locked
from billow.orders.trials import record_trial_uses, release_trial_uses
from billow.payments.actions import (
    charge_saved_method,
    check_payment_request,
    create_payment,
)
from billow.payments.errors import PaymentConflictError, PaymentError
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod
from billow.payments.selectors import get_payment_method
from billow.services.actions import request_operation, set_parameters
from billow.services.models import Service
from billow.services.states import ServiceStatus

logger = logging.getLogger("billow.orders")


# -- cart -------------------------------------------------------------------------------------


def add_to_cart(
    *,
    client: Client,
    tariff: Tariff,
    period: str,
    currency: str,
    addon_values: Mapping[str, Any] | None = None,
    parameters: Mapping[str, str] | None = None,
    quick: bool = False,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> CartItem:
    """Add a configured tariff to the client's cart with ``tariff``'s provider.

    Checked like an order (visibility by group, period offered, addon values, parameters unless
    ``quick``); a refusal writes nothing. The cart's currency is set by its first item.
    """
    spec = selectors.ItemSpec(
        "new", tariff.pk, period, dict(addon_values or {}), dict(parameters or {}), quick
    )
    cart = selectors.get_cart(client, tariff.provider_id)
    if cart is not None and cart.currency != currency and cart.items.exists():
        raise OrderError(f"the cart is in {cart.currency}", code="cart_currency_mismatch")
    calculate_quote(
        selectors.build_quote_input(
            client=client,
            provider_id=tariff.provider_id,
            currency=currency,
            items=[spec],
            now=now,
        )
    )
    with transaction.atomic():
        cart, _ = Cart.objects.get_or_create(
            client=client, provider_id=tariff.provider_id, defaults={"currency": currency}
        )
        if cart.currency != currency:
            cart.currency = currency
            cart.save(update_fields=["currency"])
        return CartItem.objects.create(
            cart=cart,
            tariff=tariff,
            period=period,
            addon_values=spec.addon_values,
            parameters=spec.parameters,
            quick=quick,
        )


def remove_cart_item(*, client: Client, item_id: int, actor: Actor | None = None) -> None:
    deleted, _ = CartItem.objects.filter(pk=item_id, cart__client=client).delete()
    if not deleted:
        raise OrderError("no such cart item", code="cart_item_not_found")


# -- checkout ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """What a checkout (or ``pay_order``) did, so callers never look the order up again.

    ``order``: the order placed (or paid). ``paid``: settled from the balance at once.
    Otherwise ``shortfall`` is still due and ``payment`` is the payment created for it, for the
    caller to start and send the payer to; it is None when no method was chosen (the order
    page offers the methods) or when the payments app refused it after the order was placed
    (``payment_refusal`` says why: the balance moved between the method check and the charge,
    so the shortfall left the method's limits). ``items``: the order's items as written
    (services set when paid).
    """

    order: Order
    paid: bool
    shortfall: Money
    payment: Payment | None = None
    items: tuple[OrderItem, ...] = ()
    payment_refusal: PaymentError | PaymentConflictError | None = None


def checkout(
    *,
    client: Client,
    provider_id: int,
    promo_code: str = "",
    payer: Payer | None = None,
    payment_method: str = "",
    items: Sequence[selectors.ItemSpec] | None = None,
    currency: str = "",
    bonus_points: int | None = 0,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> CheckoutResult:
    """Turn the client's cart (or ``items`` in ``currency``, a direct order that leaves the
    cart alone) into an order and pay it from the balance when it is enough.

    Guarantees: the order is priced by the quote (snapshot stored); a promo code's limits are
    never exceeded (reservation under a conditional UPDATE); the balance never goes below minus
    the credit limit (it is locked while checked and charged); a trial is taken once per
    client and scope (``orders.trials``); ``bonus_points`` (0 none, None as many as the
    program allows) pay part of the total: the points are redeemed under the bonus account's
    lock, so concurrent checkouts never spend more than the balance of points
    (``insufficient_bonus_points``); a refusal (``cart_empty``, pricing and promo codes,
    ``order_limit_reached``, ``trial_already_used``, bonus codes) writes nothing.
    """
    moment = clock.now(now)
    cart: Cart | None = None
    if items is None:
        cart = selectors.get_cart(client, provider_id)
        if cart is None or not cart.items.exists():
            raise OrderError("the cart is empty", code="cart_empty")
        specs, currency = selectors.cart_specs(cart), cart.currency
    else:
        specs = [replace(s, key=f"i{n}") for n, s in enumerate(items, 1)]
        if not specs:
            raise OrderError("the order has no items", code="cart_empty")
        if not currency:
            raise OrderError("a currency is required", code="currency_required")
    quote_input = selectors.build_quote_input(
        client=client,
        provider_id=provider_id,
        currency=currency,
        items=specs,
        promo_code=promo_code,
        payer=payer,
        now=moment,
        bonus_points=bonus_points,
    )
    quote = calculate_quote(quote_input)
    _check_quote(quote, promo_code)
    _check_method(client, provider_id, quote, payer, payment_method)
    with transaction.atomic(durable=True):
        wallet = lock_wallet(client.pk, provider_id, currency)
        paid = wallet.can_pay(quote.amount_due.amount_minor)
        # Paid at once: the items are inserted after settling, once, with their services.
        order, order_items = _create_order(
            client,
            provider_id,
            currency,
            specs,
            quote,
            payer,
            payment_method,
            moment,
            save_items=not paid,
        )
        _reserve_promos(order, quote, client, moment)
        if quote.bonus_points:
            redeem_points(
                client_id=client.pk,
                provider_id=provider_id,
                currency=currency,
                points=quote.bonus_points,
                amount_minor=quote.bonus.amount_minor,
                wallet_account_id=wallet.account,
                reference=order.payment_reference,
                actor=actor,
                now=moment,
            )
            wallet.balance_minor += quote.bonus.amount_minor  # the points' money is on it now
        record_trial_uses(order, specs)
        if cart is not None:
            CartItem.objects.filter(cart=cart).delete()
        charged: list[str] = []
        if paid:
            charged = settle_locked(
                order,
                wallet,
                now=moment,
                actor=actor,
                client=client,
                items=order_items,
                bonus_program=quote_input.bonus is not None,
            )
            rows.insert(order_items)
            order.payment_method = order.payment_method or PAID_FROM_BALANCE
        else:
            order.status = OrderStatus.AWAITING_PAYMENT
        # Last: the invoice number's counter row stays locked until commit, so concurrent
        # checkouts of a provider queue on it only for this tail of the transaction.
        order.invoice = _issue_invoice(order, quote, payer, actor, moment, paid=paid)
        if charged:
            attach_invoice(invoice_id=order.invoice.pk, keys=charged)
        order.save(update_fields=["status", "paid_at", "invoice", "payment_method"])
    if paid:
        return CheckoutResult(order, True, Money.zero(order.currency), items=tuple(order_items))
    available = max(0, wallet.balance_minor + wallet.credit_limit_minor)
    shortfall = Money(order.total_minor - available, order.currency)
    try:
        payment = start_shortfall_payment(order, shortfall, payment_method, actor)
    except (PaymentError, PaymentConflictError) as refusal:
        # The order is committed; only its payment was refused. The order waits for payment.
        return CheckoutResult(
            order, False, shortfall, None, items=tuple(order_items), payment_refusal=refusal
        )
    return CheckoutResult(order, False, shortfall, payment, items=tuple(order_items))


def _check_quote(quote: Quote, promo_code: str) -> None:
    if promo_code and not any(p.code for p in quote.promotions):
        raise PromoError(
            "the code discounts nothing in this cart", code="promo_code_not_applicable"
        )


def _create_order(
    client: Client,
    provider_id: int,
    currency: str,
    specs: list[selectors.ItemSpec],
    quote: Quote,
    payer: Payer | None,
    payment_method: str,
    moment: datetime,
    *,
    save_items: bool = True,
) -> tuple[Order, list[OrderItem]]:
    """The order and its items (inserted unless ``save_items`` is false: the caller inserts
    them)."""
    code_id = next((p.code_id for p in quote.promotions if p.code_id), None)
    # rows.insert: on every checkout, and the ORM's per-call INSERT build costs more than it.
    (order,) = rows.insert(
        [
            Order(
                client=client,
                provider_id=provider_id,
                currency=currency,
                subtotal_minor=quote.subtotal.amount_minor,
                discount_minor=quote.discount.amount_minor,
                tax_minor=quote.tax.amount_minor,
                total_minor=quote.total.amount_minor,
                promo_code_id=code_id,
                quote=quote.as_json(),
                payer=payer,
                payment_method=payment_method,
                created_at=moment,
            )
        ]
    )
    items = [
        OrderItem(
            order=order,
            key=s.key,
            tariff_id=s.tariff_id,
            period=s.period,
            addon_values=dict(s.addon_values),
            parameters=dict(s.parameters),
            quick=s.quick,
            net_minor=quote.item_net(s.key).amount_minor,
            tax_added_minor=quote.item_tax_added(s.key).amount_minor,
            total_minor=quote.item_total(s.key).amount_minor,
        )
        for s in specs
    ]
    if save_items:
        rows.insert(items)
    return order, items


def _reserve_promos(order: Order, quote: Quote, client: Client, moment: datetime) -> None:
    for p in quote.promotions:
        reserve_promo_use(
            promotion_id=p.promotion_id,
            code_id=p.code_id,
            client=client,
            reference=order.payment_reference,
            discount_minor=p.amount.amount_minor,
            currency=order.currency,
            now=moment,
        )


def _issue_invoice(
    order: Order,
    quote: Quote,
    payer: Payer | None,
    actor: Actor | None,
    moment: datetime,
    *,
    paid: bool,
) -> Any:
    lines = [
        InvoiceLineInput(
            description=x.description,
            quantity=x.quantity,
            unit_price_minor=x.unit_price.amount_minor,
            discount_minor=x.discount.amount_minor,
            net_minor=x.net.amount_minor,
            tax_rate=Decimal(x.tax_rate),
            tax_minor=x.tax.amount_minor,
            total_minor=x.total.amount_minor,
        )
        for x in quote.lines
    ]
    return issue_invoice(
        provider=catalog_cache.provider(order.provider_id) or order.provider,
        client=order.client,
        currency=order.currency,
        lines=lines,
        payer=payer,
        reference=order.payment_reference,
        paid=paid,
        actor=actor,
        now=moment,
        reverse_charge=quote.reverse_charge,
    )


# -- the payments seam ------------------------------------------------------------------------


def start_shortfall_payment(
    order: Order, shortfall: Money, payment_method: str, actor: Actor | None
) -> Payment | None:
    """A payment of ``shortfall`` through ``payment_method`` referenced ``order:<id>``, for the
    order's payer (None without a method: the client pays later from the order page)."""
    if not payment_method:
        return None
    return create_payment(
        client=order.client,
        amount=shortfall,
        method=payment_method,
        reference=order.payment_reference,
        payer=order.payer,
        actor=actor,
    )


def _check_method(
    client: Client, provider_id: int, quote: Quote, payer: Payer | None, payment_method: str
) -> None:
    """Refuse a method that could not take this order's payment before anything is written:
    unknown, switched off, another provider's or currency, not for this client's groups, or an
    amount outside its limits (checked on the shortfall against the balance as it is now; a
    concurrent change of the balance may still move it, then the order waits on its page)."""
    if not payment_method:
        return
    method = get_payment_method(payment_method)
    if method.provider_id != provider_id:
        raise PaymentError("no such payment method", code="payment_method_not_found")
    if not method.is_active:
        raise PaymentError("this payment method is switched off", code="payment_method_inactive")
    if method.currency != quote.currency:
        raise PaymentError(
            f"this method takes {method.currency}",
            code="payment_currency_mismatch",
            method_currency=method.currency,
        )
    available, postpaid = selectors.get_available_balance(client.pk, provider_id, quote.currency)
    due = quote.amount_due.amount_minor - available
    if due > 0 and not postpaid:
        check_payment_request(client, Money(due, quote.currency), method, payer)


def pay_order(
    *,
    order: Order,
    method: PaymentMethod | None = None,
    saved_method: SavedPaymentMethod | None = None,
    idempotency_key: str = "",
    return_url: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> CheckoutResult:
    """Pay an order awaiting payment: from the balance when it covers the total now (settled at
    once, ``paid``), else a new payment of the shortfall for the order's payer through
    ``method``, or charged at once from ``saved_method`` (one click: the payer is there, so the
    auto-payment maximum does not apply). The caller starts a hosted payment.

    Refusals (nothing written): ``order_not_open``, ``payment_method_required``,
    ``payment_method_mismatch`` (another provider's or currency's method), and every
    ``create_payment`` / ``charge_saved_method`` refusal.
    """
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise OrderConflictError(f"the order is {order.status}", status=order.status)
    shortfall = selectors.get_order_shortfall(order)
    if not shortfall.amount_minor:
        paid = settle_order(order=order, actor=actor, now=now)
        return CheckoutResult(order, paid, shortfall)
    pm = saved_method.method if saved_method is not None else method
    if pm is None:
        raise PaymentError("choose a payment method", code="payment_method_required")
    if pm.provider_id != order.provider_id or pm.currency != order.currency:
        raise PaymentError("this method cannot pay this order", code="payment_method_mismatch")
    key = idempotency_key or f"order-pay:{order.pk}:{uuid.uuid4().hex}"
    if saved_method is not None:
        payment = charge_saved_method(
            saved_method=saved_method,
            amount=shortfall,
            idempotency_key=key,
            reference=order.payment_reference,
            auto=False,
            actor=actor,
            now=now,
        )
    else:
        payment = create_payment(
            client=order.client,
            amount=shortfall,
            method=pm,
            reference=order.payment_reference,
            payer=order.payer,
            idempotency_key=key,
            return_url=return_url,
            actor=actor,
            now=now,
        )
    return CheckoutResult(order, False, shortfall, payment)


# -- settlement -------------------------------------------------------------------------------


def settle_order(*, order: Order, actor: Actor | None = None, now: datetime | None = None) -> bool:
    """Pay ``order`` from the balance if it covers the total; True when it is paid now or was
    already. ``order_not_open`` for a cancelled order."""
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        wallet = lock_wallet(order.client_id, order.provider_id, order.currency)
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == OrderStatus.PAID:
            return True
        if locked.status == OrderStatus.CANCELLED:
            raise OrderConflictError("the order is cancelled")
        if not wallet.can_pay(locked.total_minor):
            return False
        charged = settle_locked(locked, wallet, now=moment, actor=actor)
        locked.save(update_fields=["status", "paid_at"])
        if locked.invoice is not None:
            mark_invoice_paid(invoice=locked.invoice, actor=actor, now=moment)
            attach_invoice(invoice_id=locked.invoice.pk, keys=charged)
    order.refresh_from_db()
    return True


def settle_open_orders(
    *, client_id: int, currency: str, actor: Actor | None = None, now: datetime | None = None
) -> list[Order]:
    """Settle the client's orders awaiting payment in ``currency`` from the balance, oldest
    first, each in its own transaction; stops at the first the balance cannot cover.

    Meant for the payments hook ``on_balance_credited(client_id, currency)``.
    """
    paid = []
    for order in selectors.list_open_orders(client_id, currency):
        if not settle_order(order=order, actor=actor, now=now):
            break
        paid.append(order)
    return paid


def cancel_order(*, order: Order, actor: Actor | None = None, now: datetime | None = None) -> Order:
    """Cancel an unpaid order and release its promo reservations and trials, and give back
    the points that were to pay part of it (idempotent)."""
    moment = clock.now(now)
    redeemed = has_redemption(order.payment_reference)
    with transaction.atomic():
        # the one lock order: the wallet first (a redemption's money leaves it again)
        wallet = (
            lock_wallet(order.client_id, order.provider_id, order.currency) if redeemed else None
        )
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == OrderStatus.PAID:
            raise OrderConflictError("a paid order cannot be cancelled")
        if locked.status != OrderStatus.CANCELLED:
            locked.status, locked.cancelled_at = OrderStatus.CANCELLED, moment
            locked.save(update_fields=["status", "cancelled_at"])
            release_promo_uses(reference=locked.payment_reference, now=moment)
            release_trial_uses(locked)
            if wallet is not None:
                return_redeemed_points(
                    reference=locked.payment_reference,
                    wallet_account_id=wallet.account,
                    actor=actor,
                    now=moment,
                )
    return locked


def release_order_promos_on_failure(*, reference: str, now: datetime | None = None) -> int:
    """For the payments hook on a failed payment: the order stays open, its promo uses go."""
    if not reference.startswith("order:"):
        return 0
    return release_promo_uses(reference=reference, now=now)


def configure_quick_service(
    *,
    service: Service,
    parameters: Mapping[str, str],
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Service:
    """Give a quick-ordered service (``configuration_required``) its parameters and open it.

    All its parameters (given at order time and now, merged) are checked against the product
    type, required ones included (``missing_parameter``, ``invalid_parameter_value``,
    ``unknown_parameter``); a refusal changes nothing."""
    with transaction.atomic():
        svc = Service.objects.select_for_update().get(pk=service.pk)
        if svc.status != ServiceStatus.CONFIGURATION_REQUIRED:
            raise OrderError(
                "the service is not waiting for configuration",
                code="service_not_awaiting_configuration",
            )
        from billow.catalog import pricing
        from billow.catalog.selectors import get_tariff_info

        merged = {**svc.parameters, **parameters}
        pricing.check_parameters(get_tariff_info(svc.tariff_id, svc.currency), merged)
        set_parameters(service=svc, parameters=merged)
        request_operation(
            service=svc, operation="open", actor=actor, now=now, key=f"configure:{svc.pk}"
        )
    service.refresh_from_db()
    return service
