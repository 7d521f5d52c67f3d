"""The billing run's decisions, as pure functions over plain rows (no database; STYLE §9).

``plan_chunk`` takes the due services of some clients, their wallets and prices, and returns
what to write: charges, new paid-until dates, suspensions, resumptions, deletions and notices.
Services are processed per client in service-id order against a running balance, so the outcome
is deterministic and never spends more than balance + credit limit (unless post-paid).

The same plan serves the daily run (dates) and the hourly run (``billing.hourly``): there
``rules.date`` is the run's moment and an hourly service's ``paid_until`` / ``suspended_on`` are
aware datetimes, so every started hour up to the moment is charged, one ``Charge`` per hour.
A trial (``in_trial``) is renewed into its paid period like any renewal, which converts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from billow.billing.proration import is_calendar, next_period_end, opening_period, prorate
from billow.billing.wallet.balance import (
    NO_TAX,
    ItemTax,
    Wallet,
    WalletKey,
    charge_key,
    hour_charge_key,
)
from billow.core.periods import Period
from billow.services.states import AUTO_SUSPENDED, SUSPENDED, ServiceStatus

#: Statuses the billing run looks at; in-progress and failed services wait for their operation.
RUN_STATUSES = frozenset({ServiceStatus.ACTIVE, *SUSPENDED})
MAX_CATCH_UP = 400  # periods charged for one service in one run (a daily service ~ 13 months)


@dataclass(frozen=True, slots=True)
class DueService:
    """One service as the run sees it. ``renew_period`` is the period charged at renewal (the
    auto-renew period, or ``day`` for daily services); None = auto-renew off. ``price_minor`` is
    the price of one ``renew_period`` (None when it could not be priced: ``price_error``), and
    ``tax`` its tax by the checkout's rules (``billing.taxes``)."""

    id: int
    client_id: int
    provider_id: int
    currency: str
    status: str
    paid_until: date
    renew_period: str | None
    billing_mode: str
    anchor_day: int
    delete_at_period_end: bool = False
    suspended_on: date | None = None
    module_instance_id: int | None = None
    no_suspend_weekends: bool = False
    auto_delete_days: int = 14
    price_minor: int | None = 0
    price_error: str = ""
    period: str = ""  # the service's own period ("trial" until a trial converts)
    prorata_day: int = 1
    # Hourly services: the tax of each hour of the UTC day (0-23), the day's remainder carried
    # from hour to hour (``billing.selectors.load_hourly_chunk``); empty: ``tax`` every hour.
    hour_taxes: tuple[ItemTax, ...] = ()
    tax: ItemTax = NO_TAX
    label: str = ""  # how documents name the service

    @property
    def gross_minor(self) -> int:
        """What one renewal takes from the wallet: the price and the tax added on top."""
        return (self.price_minor or 0) + self.tax.tax_added_minor

    @property
    def wallet_key(self) -> WalletKey:
        return (self.client_id, self.provider_id, self.currency)

    @property
    def is_daily(self) -> bool:
        return self.renew_period == Period.DAY

    @property
    def is_hourly(self) -> bool:
        return self.renew_period == Period.HOUR

    @property
    def in_trial(self) -> bool:
        return self.period == Period.TRIAL


@dataclass(frozen=True, slots=True)
class Charge:
    service_id: int
    wallet_key: WalletKey
    period_from: date
    period_to: date
    amount_minor: int
    tax: ItemTax = NO_TAX

    @property
    def gross_minor(self) -> int:
        return self.amount_minor + self.tax.tax_added_minor

    @property
    def key(self) -> str:
        if isinstance(self.period_from, datetime):
            return hour_charge_key(self.service_id, self.period_from)
        return charge_key(self.service_id, self.period_from)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Move ``service_id`` from ``from_status`` to ``to_status`` (through a module operation
    when the service has a module instance). ``reason`` goes into the event (non_payment,
    expired, auto_delete, paid, ...)."""

    service_id: int
    client_id: int
    provider_id: int
    from_status: str
    to_status: str
    reason: str
    module_instance_id: int | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    event: str
    client_id: int
    provider_id: int
    context: dict[str, Any]
    dedup_key: str


@dataclass(slots=True)
class Plan:
    charges: list[Charge] = field(default_factory=list)
    paid_until: dict[int, date] = field(default_factory=dict)  # service id -> new paid_until
    changes: list[StatusChange] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)  # suspension deferred (weekend rule)
    unpaid: list[int] = field(default_factory=list)  # already suspended, still not paid
    failed: list[tuple[int, str]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def count(self, to_status: str, reason: str | None = None) -> int:
        return sum(
            1
            for c in self.changes
            if c.to_status == to_status and (reason is None or c.reason == reason)
        )


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True, slots=True)
class RunRules:
    date: date
    notice_days: int = 3
    delete_manual_suspended: bool = False


def plan_chunk(
    rules: RunRules,
    services: Iterable[DueService],
    wallets: dict[WalletKey, Wallet],
    *,
    already_charged: frozenset[tuple[int, date]] = frozenset(),
) -> Plan:
    """Decide everything the run does for these services. ``wallets`` are updated in place
    (running balances); a service without a wallet has balance 0 and no credit."""
    plan = Plan()
    ordered = sorted(services, key=lambda s: (s.client_id, s.id))
    for s in ordered:
        wallet = wallets.setdefault(s.wallet_key, Wallet(None, 0))
        _plan_service(rules, s, wallet, plan, already_charged)
    _plan_notices(rules, ordered, wallets, plan)
    return plan


def _plan_service(
    rules: RunRules,
    s: DueService,
    wallet: Wallet,
    plan: Plan,
    charged: frozenset[tuple[int, date]],
) -> None:
    day = rules.date
    if s.paid_until <= day and s.delete_at_period_end:
        plan.changes.append(_change(s, ServiceStatus.DELETED, "period_end"))
        return
    if wallet.blocked:
        _plan_blocked(rules, s, plan)
        return
    if s.paid_until <= day and s.renew_period is not None:
        if s.price_minor is None:
            plan.failed.append((s.id, s.price_error or "price_unavailable"))
            return
        _renew(s, wallet, plan, day, charged)
    paid = plan.paid_until.get(s.id, s.paid_until)
    if paid > day:
        if s.status == ServiceStatus.SUSPENDED_NONPAYMENT:
            plan.changes.append(_change(s, ServiceStatus.ACTIVE, "paid"))
        return
    if s.status == ServiceStatus.ACTIVE:
        reason = "non_payment" if s.renew_period is not None else "expired"
        if s.no_suspend_weekends and is_weekend(day):
            plan.deferred.append(s.id)
        else:
            plan.changes.append(_change(s, ServiceStatus.SUSPENDED_NONPAYMENT, reason))
        return
    if _auto_delete_due(rules, s):
        plan.changes.append(_change(s, ServiceStatus.DELETED, "auto_delete"))
    elif s.status in SUSPENDED:
        plan.unpaid.append(s.id)


def _plan_blocked(rules: RunRules, s: DueService, plan: Plan) -> None:
    """The credit terms block the client: nothing renews, active services are suspended for
    non-payment (``overdue``), suspended ones wait (or are deleted when their time is up)."""
    if s.status == ServiceStatus.ACTIVE:
        if s.no_suspend_weekends and is_weekend(rules.date):
            plan.deferred.append(s.id)
        else:
            plan.changes.append(_change(s, ServiceStatus.SUSPENDED_NONPAYMENT, "overdue"))
    elif _auto_delete_due(rules, s):
        plan.changes.append(_change(s, ServiceStatus.DELETED, "auto_delete"))
    elif s.status in SUSPENDED:
        plan.unpaid.append(s.id)


def _renew(
    s: DueService, wallet: Wallet, plan: Plan, day: date, charged: frozenset[tuple[int, date]]
) -> None:
    """Charge consecutive periods while they are due and the wallet can pay."""
    assert s.renew_period is not None and s.price_minor is not None
    start = s.paid_until
    if s.is_hourly and s.status in SUSPENDED and isinstance(day, datetime):
        # The hours it stood suspended are not charged: paid again, it runs from this hour.
        start = max(start, day.replace(minute=0, second=0, microsecond=0))
    origin = start
    for _ in range(MAX_CATCH_UP):
        if start > day:
            break
        end, amount, tax = _next_span(s, start)
        if (s.id, start) not in charged:
            if not wallet.can_pay(amount + tax.tax_added_minor):
                break
            wallet.balance_minor -= amount + tax.tax_added_minor
            plan.charges.append(Charge(s.id, s.wallet_key, start, end, amount, tax))
        start = end
    if start != origin:
        plan.paid_until[s.id] = start


def _next_span(s: DueService, start: date) -> tuple[date, int, ItemTax]:
    """The end, price and tax of the period starting at ``start``. A calendar trial converts
    on a day other than the 1st: its first paid period follows the pro-rata day and is priced
    (and taxed) at its share, like a calendar service's first period at checkout."""
    assert s.renew_period is not None and s.price_minor is not None
    if s.in_trial and start.day != 1 and is_calendar(s.renew_period, s.billing_mode):
        _, end, fraction = opening_period(start, s.renew_period, s.billing_mode, s.prorata_day)
        tax = ItemTax(
            prorate(s.tax.tax_minor, fraction),
            prorate(s.tax.tax_added_minor, fraction),
            s.tax.rate,
            s.tax.reverse_charge,
        )
        return end, prorate(s.price_minor, fraction), tax
    end = next_period_end(start, s.renew_period, s.billing_mode, s.anchor_day)
    if s.hour_taxes and isinstance(start, datetime):
        return end, s.price_minor, s.hour_taxes[start.astimezone(UTC).hour]
    return end, s.price_minor, s.tax


def _auto_delete_due(rules: RunRules, s: DueService) -> bool:
    deletable = SUSPENDED if rules.delete_manual_suspended else AUTO_SUSPENDED
    if s.status not in deletable or s.suspended_on is None:
        return False
    return s.suspended_on + timedelta(days=s.auto_delete_days) <= rules.date


def _change(s: DueService, to_status: str, reason: str) -> StatusChange:
    return StatusChange(
        s.id, s.client_id, s.provider_id, s.status, to_status, reason, s.module_instance_id
    )


def _plan_notices(
    rules: RunRules, services: Sequence[DueService], wallets: dict[WalletKey, Wallet], plan: Plan
) -> None:
    """Renewal notices ``notice_days`` ahead (a trial's end: once, inside the window); low
    balance when the next ``notice_days`` of renewals (of hours, for hourly services) cost more
    than the wallet has available."""
    day = rules.date
    horizon = day + timedelta(days=rules.notice_days)
    gone = {c.service_id for c in plan.changes if c.to_status != ServiceStatus.ACTIVE}
    upcoming: dict[WalletKey, int] = {}
    for s in services:
        paid = plan.paid_until.get(s.id, s.paid_until)
        if s.id in gone:
            continue
        active = s.status == ServiceStatus.ACTIVE and not s.delete_at_period_end
        if s.in_trial and active and day < paid <= horizon:
            plan.notices.append(_trial_notice(s, paid))
        if s.renew_period is None or s.price_minor is None:
            continue
        if s.status not in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED_NONPAYMENT):
            continue
        if s.is_daily or s.is_hourly:
            per_day = 24 if s.is_hourly else 1
            upcoming[s.wallet_key] = upcoming.get(s.wallet_key, 0) + s.gross_minor * per_day * max(
                rules.notice_days, 1
            )
            continue
        if day < paid <= horizon:
            upcoming[s.wallet_key] = upcoming.get(s.wallet_key, 0) + s.gross_minor
        if paid == horizon and active and not s.in_trial:
            plan.notices.append(_renewal_notice(s, paid))
    for key, cost in sorted(upcoming.items()):
        wallet = wallets[key]
        if not wallet.postpaid and wallet.available_minor < cost:
            plan.notices.append(_low_balance_notice(key, wallet, cost, day))


def _renewal_notice(s: DueService, paid: date) -> Notice:
    return Notice(
        "renewal_coming",
        s.client_id,
        s.provider_id,
        {
            "service_id": s.id,
            "renews_on": paid.isoformat(),
            "amount_minor": s.gross_minor,
            "currency": s.currency,
        },
        f"renewal_coming:{s.id}:{paid.isoformat()}",
    )


def _trial_notice(s: DueService, ends: date) -> Notice:
    context: dict[str, Any] = {
        "service_id": s.id,
        "ends_on": ends.isoformat(),
        "converts_to": s.renew_period or "",
        "currency": s.currency,
    }
    if s.renew_period and s.price_minor is not None:
        context["amount_minor"] = s.price_minor
    return Notice(
        "trial_ending",
        s.client_id,
        s.provider_id,
        context,
        f"trial_ending:{s.id}:{ends.isoformat()}",
    )


def _low_balance_notice(key: WalletKey, wallet: Wallet, cost: int, day: date) -> Notice:
    client_id, provider_id, currency = key
    return Notice(
        "low_balance",
        client_id,
        provider_id,
        {
            "currency": currency,
            "available_minor": wallet.available_minor,
            "needed_minor": cost,
        },
        # One a day, also from the hourly run (whose ``day`` is a moment).
        f"low_balance:{client_id}:{provider_id}:{currency}:{_date_of(day).isoformat()}",
    )


def _date_of(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day
