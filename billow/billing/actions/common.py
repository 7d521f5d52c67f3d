"""What every billing action shares: the one lock order (client balance, then service), the
checks before any write, money posted through the ledger with an expense, and the paid period a
service is in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from billow.accounts.models import Client, Provider
from billow.billing.errors import BillingError, InsufficientFundsError
from billow.billing.models import (
    ClientBillingSettings,
    Expense,
    ExpenseKind,
    ExpenseReason,
)
from billow.billing.plan import (
    StatusChange,
    Wallet,
    WalletKey,
)
from billow.billing.proration import (
    is_calendar,
    period_price_fraction,
    remaining_fraction,
)
from billow.billing.writes import MoneyItem, write_money
from billow.core.actors import Actor
from billow.core.periods import Period, add_months, to_period
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account
from billow.services.actions import record_event
from billow.services.models import Service
from billow.services.states import ServiceStatus

S = ServiceStatus
NOT_OPEN = frozenset({S.ORDERED, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE})
BUSY = frozenset({S.IN_PROGRESS, S.FAILED})


@dataclass(slots=True)
class LockedService:
    service: Service
    account_id: int
    wallet: Wallet

    @property
    def key(self) -> WalletKey:
        s = self.service
        return (s.client_id, s.provider_id, s.currency)


def lock_service(service: Service | int) -> LockedService:
    """Lock the client's balance account (created if missing), then the service."""
    pk = service if isinstance(service, int) else service.pk
    head = Service.objects.values_list("client_id", "provider_id", "currency").get(pk=pk)
    account = get_or_create_account(
        kind=AccountKind.CLIENT_BALANCE,
        currency=head[2],
        client=Client(pk=head[0]),
        provider=Provider(pk=head[1]),
    )
    balance = (
        LedgerAccount.objects.select_for_update()
        .values_list("balance_minor", flat=True)
        .get(pk=account.pk)
    )
    locked = Service.objects.select_for_update().get(pk=pk)
    limit, postpaid = (
        ClientBillingSettings.objects.filter(client_id=head[0], currency=head[2])
        .values_list("credit_limit_minor", "postpaid")
        .first()
    ) or (0, False)
    return LockedService(locked, account.pk, Wallet(account.pk, int(balance), int(limit), postpaid))


def check_open(s: Service) -> None:
    if s.status == S.DELETED:
        raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
    if s.status in NOT_OPEN or s.status in BUSY or s.paid_until is None:
        raise BillingError(
            f"service {s.pk} is {s.status}", code="service_not_billable", status=s.status
        )


def require_funds(wallet: Wallet, amount: int) -> None:
    if not wallet.can_pay(amount):
        raise InsufficientFundsError(
            "balance plus credit limit does not cover the amount",
            amount_minor=amount,
            available_minor=wallet.available_minor,
        )


def record_service_event(
    s: Service, type: str, data: Mapping[str, Any], actor: Actor | None, now: datetime
) -> None:
    record_event(s, type, actor, data, now)


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
) -> Expense:
    item = MoneyItem(
        locked.service.pk, locked.key, kind, reason, key, span[0], span[1], amount, description
    )
    return write_money([item], {locked.key: locked.account_id}, now=now, actor=actor)[0]


def adjust_key(s: Service) -> str:
    """Keys of non-period expenses: counted per service under the service lock."""
    n = Expense.objects.filter(service=s).exclude(reason=ExpenseReason.PERIOD).count()
    return f"adjust:{s.pk}:{n + 1}"


def status_change(s: Service, to_status: str, reason: str) -> StatusChange:
    return StatusChange(
        s.pk, s.client_id, s.provider_id, s.status, to_status, reason, s.module_instance_id
    )


@dataclass(frozen=True, slots=True)
class CurrentPeriod:
    period_from: date
    period_to: date
    period: str
    fraction: Fraction  # of the full period price still unused today


def current_period(s: Service, today: date) -> CurrentPeriod:
    """The paid period containing ``today`` (from its period charge, else counted back)."""
    assert s.paid_until is not None
    last = (
        Expense.objects.filter(
            service=s, kind=ExpenseKind.CHARGE, reason=ExpenseReason.PERIOD, period_to=s.paid_until
        )
        .order_by("-period_from")
        .values_list("period_from", flat=True)
        .first()
    )
    per = s.period if s.period == Period.DAY else (s.auto_renew_period or s.period)
    if last is None:
        last = _count_back(s.paid_until, per, s.billing_mode, s.anchor_day)
    else:
        per = _period_of(last, s.paid_until, s)
    price_fraction = period_price_fraction(last, per, s.billing_mode, s.prorata_day)
    frac = remaining_fraction(today, last, s.paid_until, price_fraction)
    return CurrentPeriod(last, s.paid_until, per, frac)


def _count_back(end: date, per: str, mode: str, anchor_day: int) -> date:
    p = to_period(per)
    if p is Period.DAY:
        return end - timedelta(days=1)
    return add_months(end, -p.months, anchor_day=1 if is_calendar(per, mode) else anchor_day)


def _period_of(start: date, end: date, s: Service) -> str:
    """The period code a charged span stands for (a calendar first period counts as the
    service's period)."""
    if (end - start).days == 1:
        return Period.DAY.value
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    for p in Period:
        if (
            p.months
            and p.months == months
            and not (is_calendar(p, s.billing_mode) and start.day != 1)
        ):
            return p.value
    return s.period
