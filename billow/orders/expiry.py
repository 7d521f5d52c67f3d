"""Quick-ordered services nobody configures: deleted after ``QUICK_ORDER_CONFIGURE_DAYS`` with
what the client paid for them refunded to the balance.

A quick order (pay now, configure later) leaves its service in ``configuration_required`` until
the client picks its parameters. One never configured was never delivered, so after the grace
period the client gets back everything that item cost, not a prorated part:

- the item's net price: a ``refund`` expense (reason ``deletion``) from provider revenue to the
  client balance, keyed ``refund:<service>:unconfigured``;
- the tax added to it: tax payable -> client balance, keyed
  ``<order reference>:tax:refund:<service>``;
- the tax included in it: tax payable -> provider revenue (revenue had handed it over);
- a credit note on the order's invoice for the item total; the service goes to ``deleted`` and
  the client gets the ``service_deleted`` notification.

Every step is keyed, under the client's balance lock and then the service row lock (the order
in which checkout and billing take them), so a rerun (the daily job, or two at once) refunds
once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from billow.billing.models import ExpenseKind, ExpenseReason
from billow.billing.wallet import (
    NO_TAX,
    MoneyItem,
    Wallet,
    lock_wallet,
    move_money,
    revenue_account,
)
from billow.core import clock
from billow.core.actors import Actor
from billow.invoicing.actions import issue_credit_note
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.selectors import get_account_id
from billow.notifications.actions import notify_client
from billow.orders.models import OrderItem
from billow.services.actions import transition_service
from billow.services.models import Service
from billow.services.states import ServiceStatus

logger = logging.getLogger("billow.orders")
JOB = Actor.job("orders.expire_unconfigured")


def configure_days() -> int:
    conf: Mapping[str, Any] = getattr(settings, "BILLOW", {})
    return int(conf.get("QUICK_ORDER_CONFIGURE_DAYS", 30))


def configure_deadline(service: Service) -> datetime | None:
    """When ``service`` (waiting for configuration) is deleted and refunded if still
    unconfigured; None when expiry is off."""
    days = configure_days()
    if days <= 0 or service.ordered_at is None:
        return None
    return service.ordered_at + timedelta(days=days)


def expire_unconfigured_services(*, now: datetime | None = None) -> list[int]:
    """Delete and refund every quick-ordered service still unconfigured ``configure_days()``
    after its order (none when that is 0). Returns the ids it deleted; one that fails is
    logged and left for the next run."""
    days = configure_days()
    if days <= 0:
        return []
    moment = clock.now(now)
    due = Service.objects.filter(
        status=ServiceStatus.CONFIGURATION_REQUIRED, ordered_at__lte=moment - timedelta(days=days)
    ).order_by("id")
    done = []
    for service_id in due.values_list("id", flat=True):
        try:
            if expire_service(service_id=service_id, now=moment):
                done.append(service_id)
        except Exception:  # one broken row must not stop the others; the next run retries it
            logger.exception("could not expire unconfigured service %s", service_id)
    return done


def expire_service(*, service_id: int, now: datetime | None = None) -> bool:
    """Delete one unconfigured quick-ordered service and refund its item (see the module
    docstring). False, writing nothing, when it is no longer waiting for configuration."""
    moment = clock.now(now)
    item = OrderItem.objects.select_related("order").filter(service_id=service_id).first()
    with transaction.atomic(durable=True):
        wallet = None
        if item is not None:
            order = item.order
            wallet = lock_wallet(order.client_id, order.provider_id, order.currency)
        svc = Service.objects.select_for_update().get(pk=service_id)
        if svc.status != ServiceStatus.CONFIGURATION_REQUIRED:
            return False
        if item is not None and wallet is not None:
            _refund(item, svc, wallet, moment)
        transition_service(
            service=svc,
            to=ServiceStatus.DELETED,
            actor=JOB,
            reason=f"not configured within {configure_days()} days of the order",
            now=moment,
        )
        notify_client(
            event="service_deleted",
            client_id=svc.client_id,
            provider_id=svc.provider_id,
            context={"service_name": svc.name},
            dedup_key=f"service_deleted:{svc.pk}",
        )
    return True


def _refund(item: OrderItem, svc: Service, wallet: Wallet, moment: datetime) -> None:
    order = item.order
    key = (order.client_id, order.provider_id, order.currency)
    if item.net_minor:
        money = MoneyItem(
            svc.pk,
            key,
            ExpenseKind.REFUND,
            ExpenseReason.DELETION,
            f"refund:{svc.pk}:unconfigured",
            moment.date(),
            svc.paid_until or moment.date(),
            item.net_minor,
            f"order {order.pk}: not configured",
            NO_TAX,  # its tax goes back below, and a credit note on the order's invoice
        )
        move_money(money, wallet.account, now=moment, actor=JOB, documents=False)
    included = _included_tax(order.quote, item.key, order.tax_minor - _added_tax(order))
    if item.tax_added_minor or included:
        payable = get_account_id(
            kind=AccountKind.TAX_PAYABLE, currency=order.currency, provider_id=order.provider_id
        )
        ref = order.payment_reference
        if item.tax_added_minor:
            post_transaction(
                kind=TransactionKind.TAX,
                legs=[(payable, -item.tax_added_minor), (wallet.account, item.tax_added_minor)],
                idempotency_key=f"{ref}:tax:refund:{svc.pk}",
                reference=ref,
                actor=JOB,
            )
        if included:
            post_transaction(
                kind=TransactionKind.TAX,
                legs=[
                    (payable, -included),
                    (revenue_account(order.provider_id, order.currency), included),
                ],
                idempotency_key=f"{ref}:tax_included:refund:{svc.pk}",
                reference=ref,
                actor=JOB,
            )
    if order.invoice is not None and item.total_minor > 0:
        issue_credit_note(
            invoice=order.invoice,
            amount_minor=item.total_minor,
            reason="service not configured",
            reference=f"refund:{svc.pk}:unconfigured",
            actor=JOB,
            now=moment,
        )


def _added_tax(order: Any) -> int:
    return sum(i.tax_added_minor for i in order.items.all())


def _included_tax(quote: Mapping[str, Any], item_key: str, order_included: int) -> int:
    """The tax included in ``item_key``'s lines of the order's quote snapshot, never more than
    the order's included tax."""
    lines = [x for x in quote.get("lines", []) if x.get("item") == item_key]
    own = sum(int(x.get("tax_minor", 0)) - int(x.get("tax_added_minor", 0)) for x in lines)
    return max(0, min(own, order_included))
