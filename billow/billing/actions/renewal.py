"""Opening charge and renewal of a service for a period."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

from django.db import transaction

from billow.billing.actions.common import (
    LockedService,
    lock_service,
    post_money,
    status_change,
)
from billow.billing.errors import BillingError
from billow.billing.models import (
    Expense,
    ExpenseKind,
    ExpenseReason,
)
from billow.billing.plan_change import (
    S,
    check_open,
)
from billow.billing.proration import (
    is_calendar,
    next_period_end,
    opening_period,
    prorate,
)
from billow.billing.selectors import PriceBook, service_price
from billow.billing.wallet import charge_key
from billow.billing.writes import apply_status_changes
from billow.core import clock
from billow.core.actors import Actor
from billow.core.periods import Period, to_period
from billow.services.actions import (
    Renewal,
    TrialConversion,
    check_reason,
    convert_trials,
    record_event,
    record_staff_event,
    request_prolongs,
    set_first_paid_period,
    set_paid_until,
)
from billow.services.models import Service


def charge_opening(
    *,
    service: Service | int,
    start: date | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Expense:
    """Charge the first period of a service opened on ``start`` (default: today) and set its
    paid-until date.

    Anniversary: a whole period from ``start`` (the anchor day is ``start.day``). Calendar:
    to the end of the month (before the pro-rata day) or of the next month (on/after it),
    priced at the exact fraction (reference §1.8). Price: the special price, else the tariff
    quote with the service's addon values; the setup fee is added whole. Idempotent: a replay
    returns the existing expense. Refuses ``insufficient_funds`` unless post-paid.
    """
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        return charge_first_period(lock_service(service), start=start, now=moment, actor=actor)


def charge_first_period(
    locked: LockedService, *, start: date | None, now: datetime, actor: Actor | None
) -> Expense:
    """``charge_opening``'s work inside the caller's transaction, the wallet and the service
    locked (``lock_service``; staff's charged create locks the wallet, then writes the new
    service)."""
    moment = now
    s = locked.service
    if s.status == S.DELETED:
        raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
    day = start or moment.date()
    period_from, period_to, fraction = opening_period(day, s.period, s.billing_mode, s.prorata_day)
    key = charge_key(s.pk, period_from)
    existing = Expense.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if s.paid_until is not None:
        raise BillingError("the opening period was charged already", code="already_charged")
    amount = _opening_amount(s, fraction)
    expense = post_money(
        locked,
        ExpenseKind.CHARGE,
        ExpenseReason.PERIOD,
        key,
        (period_from, period_to),
        amount,
        moment,
        actor,
        "opening",
        require=True,
    )
    anchor_day = 1 if is_calendar(s.period, s.billing_mode) else period_from.day
    set_first_paid_period(service=s, paid_until=period_to, anchor_day=anchor_day, now=moment)
    data = {"expense": key, "amount_minor": amount}
    record_event(s, "service.charged", actor, data, moment)
    return expense


def _opening_amount(s: Service, fraction: Fraction) -> int:
    book = PriceBook()
    values = s.addon_values or {}
    if s.special_price_minor is not None:
        period_price, setup = s.special_price_minor, 0
    else:
        period_price = book.price(s.tariff_id, s.currency, s.period, values)
        setup = book.price(s.tariff_id, s.currency, s.period, values, include_setup=True)
        setup -= period_price
    return prorate(period_price, fraction) + setup


def renew_service(
    *,
    service: Service | int,
    period: str | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
    staff_reason: str | None = None,
) -> Expense:
    """Renew now for one ``period`` (default: the auto-renew period, else the service's):
    charge ``[paid_until, next end)`` and move paid-until. A service suspended for non-payment
    whose new paid-until is in the future is resumed; a trial becomes a service of ``period``
    (its paid time starts at the trial's end). Refuses deleted, unopened or busy services,
    daily services (``daily_not_renewable``), renewing for a trial (``trial_not_renewable``)
    and ``insufficient_funds``. ``staff_reason``: staff renew by hand (``reason_required`` when
    blank), audited as ``staff.renew``."""
    moment = clock.now(now)
    why = None if staff_reason is None else check_reason(staff_reason)
    with transaction.atomic(durable=True):
        locked = lock_service(service)
        s = locked.service
        check_open(s)
        if s.period == Period.DAY:
            raise BillingError("daily services are charged daily", code="daily_not_renewable")
        per = to_period(period or s.auto_renew_period or s.period).value
        if per == Period.TRIAL:
            raise BillingError("a trial is not renewed", code="trial_not_renewable")
        assert s.paid_until is not None
        start = s.paid_until
        end = next_period_end(start, per, s.billing_mode, s.anchor_day)
        amount = service_price(
            PriceBook(),
            tariff_id=s.tariff_id,
            currency=s.currency,
            period=per,
            addon_values=s.addon_values or {},
            special_price_minor=s.special_price_minor,
        )
        key = charge_key(s.pk, start)
        expense = post_money(
            locked,
            ExpenseKind.CHARGE,
            ExpenseReason.PERIOD,
            key,
            (start, end),
            amount,
            moment,
            actor,
            "renewal",
            require=True,
        )
        set_paid_until({s.pk: end}, now=moment)
        if s.period == Period.TRIAL:  # paid into its next period ahead of its end
            convert_trials([TrialConversion(s.pk, per, s.status)], actor=actor, now=moment)
        record_event(s, "service.renewed", actor, {"expense": key, "paid_until": end}, moment)
        request_prolongs([Renewal(s.pk, s.module_instance_id, s.status, end)], now=moment)
        if s.status == S.SUSPENDED_NONPAYMENT and end > moment.date():
            apply_status_changes([status_change(s, S.ACTIVE, "paid")], now=moment, actor=actor)
        if why is not None:
            record_staff_event(
                s,
                "renew",
                actor=actor,
                reason=why,
                now=moment,
                paid_until_before=start,
                paid_until=end,
                charged=True,
                expense=key,
                amount_minor=amount,
            )
    return expense
