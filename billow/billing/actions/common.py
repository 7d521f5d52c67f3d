"""What every billing action shares: the one lock order (client balance, then service), the
checks before any write, money posted through the ledger with an expense, and the paid period a
service is in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from billow.billing.errors import InsufficientFundsError
from billow.billing.models import (
    Expense,
    ExpenseReason,
)
from billow.billing.plan import StatusChange
from billow.billing.taxes import price_items_tax
from billow.billing.wallet import MoneyItem, Wallet, WalletKey, lock_wallet, move_money
from billow.core.actors import Actor
from billow.services.models import Service


@dataclass(slots=True)
class LockedService:
    service: Service
    wallet: Wallet

    @property
    def key(self) -> WalletKey:
        s = self.service
        return (s.client_id, s.provider_id, s.currency)


def lock_service(service: Service | int) -> LockedService:
    """Lock the client's wallet (its balance account, created if missing), then the service."""
    pk = service if isinstance(service, int) else service.pk
    client_id, provider_id, currency = Service.objects.values_list(
        "client_id", "provider_id", "currency"
    ).get(pk=pk)
    wallet = lock_wallet(client_id, provider_id, currency)
    locked = Service.objects.select_for_update().get(pk=pk)
    return LockedService(locked, wallet)


def require_funds(wallet: Wallet, amount: int) -> None:
    if not wallet.can_pay(amount):
        raise InsufficientFundsError(
            "balance plus credit limit does not cover the amount",
            amount_minor=amount,
            available_minor=wallet.available_minor,
        )


def post_money(
    locked: LockedService,
    kind: str,
    reason: str,
    key: str,
    span: tuple[date, date],
    amount: int,
    now: datetime,
    actor: Actor | None,
    description: str = "",
    *,
    require: bool = False,
    proration: Fraction | None = None,
    list_price_minor: int | None = None,
    invoice_id: int | None = None,
) -> Expense:
    """Move ``amount`` (tax priced by the checkout's rules, or the share of the tax charged
    that a refund gives back) and issue its document. ``require``: refuse
    ``insufficient_funds`` unless the wallet covers the gross amount, before any write."""
    item = MoneyItem(
        locked.service.pk,
        locked.key,
        kind,
        reason,
        key,
        span[0],
        span[1],
        amount,
        description,
        proration=proration if proration is not None and proration != 1 else None,
        list_price_minor=list_price_minor if proration is not None and proration != 1 else None,
        invoice_id=invoice_id,
    )
    (item,) = price_items_tax([item])
    if require:
        require_funds(locked.wallet, item.gross_minor)
    return move_money(item, locked.wallet.account, now=now, actor=actor)


def adjust_key(s: Service) -> str:
    """Keys of non-period expenses: counted per service under the service lock."""
    n = Expense.objects.filter(service=s).exclude(reason=ExpenseReason.PERIOD).count()
    return f"adjust:{s.pk}:{n + 1}"


def status_change(s: Service, to_status: str, reason: str) -> StatusChange:
    return StatusChange(
        s.pk, s.client_id, s.provider_id, s.status, to_status, reason, s.module_instance_id
    )
