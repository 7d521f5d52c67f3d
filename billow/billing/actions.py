"""Billing use cases: opening charge, renewal, tariff and addon changes, deletion, resumption
after a top-up, and client billing settings.

Each action is one DB transaction that locks the client's balance account first and the
service second (the one lock order, shared with the billing run), validates everything before
writing, and is idempotent where a retry is plausible (charges carry unique keys). A refusal
raises a ``BillowError`` with a stable code and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import Sum

from billow.accounts.models import Client, Provider
from billow.billing.errors import BillingError, InsufficientFundsError
from billow.billing.models import (
    ClientBillingSettings,
    Expense,
    ExpenseKind,
    ExpenseReason,
    PendingChange,
)
from billow.billing.plan import (
    RunRules,
    StatusChange,
    Wallet,
    WalletKey,
    charge_key,
    plan_chunk,
)
from billow.billing.proration import (
    is_calendar,
    next_period_end,
    opening_period,
    period_price_fraction,
    prorate,
    remaining_fraction,
)
from billow.billing.selectors import PriceBook, load_chunk, service_price
from billow.billing.writes import MoneyItem, apply_status_changes, set_paid_until, write_money
from billow.catalog.choices import DeletionPolicy, DowngradePolicy, TariffStatus
from billow.catalog.models import Tariff
from billow.catalog.pricing import check_addon_change
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.core.money import check_amount, exponent
from billow.core.periods import Period, add_months, to_period
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account
from billow.services.models import Service, ServiceEvent, ServiceOperation
from billow.services.states import ServiceStatus

S = ServiceStatus
_NOT_OPEN = frozenset({S.ORDERED, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE})
_BUSY = frozenset({S.IN_PROGRESS, S.FAILED})


# -- locking and reads ------------------------------------------------------------------------


@dataclass(slots=True)
class _Locked:
    service: Service
    account_id: int
    wallet: Wallet

    @property
    def key(self) -> WalletKey:
        s = self.service
        return (s.client_id, s.provider_id, s.currency)


def _lock(service: Service | int) -> _Locked:
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
    return _Locked(locked, account.pk, Wallet(account.pk, int(balance), int(limit), postpaid))


def _check_open(s: Service) -> None:
    if s.status == S.DELETED:
        raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
    if s.status in _NOT_OPEN or s.status in _BUSY or s.paid_until is None:
        raise BillingError(
            f"service {s.pk} is {s.status}", code="service_not_billable", status=s.status
        )


def _require_funds(wallet: Wallet, amount: int) -> None:
    if not wallet.can_pay(amount):
        raise InsufficientFundsError(
            "balance plus credit limit does not cover the amount",
            amount_minor=amount,
            available_minor=wallet.available_minor,
        )


def _event(
    s: Service, type: str, data: Mapping[str, Any], actor: Actor | None, now: datetime
) -> None:
    ServiceEvent.objects.create(
        service=s,
        from_status=s.status,
        to_status=s.status,
        **audit_kwargs(actor, type, data, now=now),
    )


def _money(
    locked: _Locked,
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


def _adjust_key(s: Service) -> str:
    """Keys of non-period expenses: counted per service under the service lock."""
    n = Expense.objects.filter(service=s).exclude(reason=ExpenseReason.PERIOD).count()
    return f"adjust:{s.pk}:{n + 1}"


# -- opening and renewal ----------------------------------------------------------------------


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
        locked = _lock(service)
        s = locked.service
        if s.status == S.DELETED:
            raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
        day = start or moment.date()
        period_from, period_to, fraction = opening_period(
            day, s.period, s.billing_mode, s.prorata_day
        )
        key = charge_key(s.pk, period_from)
        existing = Expense.objects.filter(key=key).first()
        if existing is not None:
            return existing
        if s.paid_until is not None:
            raise BillingError("the opening period was charged already", code="already_charged")
        amount = _opening_amount(s, fraction)
        _require_funds(locked.wallet, amount)
        expense = _money(
            locked,
            ExpenseKind.CHARGE,
            ExpenseReason.PERIOD,
            key,
            (period_from, period_to),
            amount,
            moment,
            actor,
            "opening",
        )
        s.paid_until = period_to
        s.anchor_day = 1 if is_calendar(s.period, s.billing_mode) else period_from.day
        s.updated_at = moment
        s.save(update_fields=["paid_until", "anchor_day", "updated_at"])
        _event(s, "service.charged", {"expense": key, "amount_minor": amount}, actor, moment)
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
) -> Expense:
    """Renew now for one ``period`` (default: the auto-renew period, else the service's):
    charge ``[paid_until, next end)`` and move paid-until. A service suspended for non-payment
    whose new paid-until is in the future is resumed. Refuses deleted, unopened or busy
    services, daily services (``daily_not_renewable``) and ``insufficient_funds``."""
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        locked = _lock(service)
        s = locked.service
        _check_open(s)
        if s.period == Period.DAY:
            raise BillingError("daily services are charged daily", code="daily_not_renewable")
        per = to_period(period or s.auto_renew_period or s.period).value
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
        _require_funds(locked.wallet, amount)
        key = charge_key(s.pk, start)
        expense = _money(
            locked,
            ExpenseKind.CHARGE,
            ExpenseReason.PERIOD,
            key,
            (start, end),
            amount,
            moment,
            actor,
            "renewal",
        )
        set_paid_until({s.pk: end}, now=moment)
        _event(s, "service.renewed", {"expense": key, "paid_until": end}, actor, moment)
        if s.status == S.SUSPENDED_NONPAYMENT and end > moment.date():
            apply_status_changes([_change(s, S.ACTIVE, "paid")], now=moment, actor=actor)
    return expense


def _change(s: Service, to_status: str, reason: str) -> StatusChange:
    return StatusChange(
        s.pk, s.client_id, s.provider_id, s.status, to_status, reason, s.module_instance_id
    )


# -- the current period -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Current:
    period_from: date
    period_to: date
    period: str
    fraction: Fraction  # of the full period price still unused today


def _current_period(s: Service, today: date) -> _Current:
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
    return _Current(last, s.paid_until, per, frac)


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


# -- tariff and addon changes -----------------------------------------------------------------


def change_tariff(
    *,
    service: Service | int,
    tariff: Tariff,
    addon_values: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Service:
    """Move a service to another tariff of the same product type and provider.

    Upgrade (the new period price is not lower): now, charging exactly the prorated
    difference for the rest of the paid period. Downgrade: per the product type's downgrade
    policy, at the end of the paid period (a ``PendingChange`` the run applies) or now with
    the prorated difference credited. Addon values carry over where the new tariff has the
    addon (or are given). A special price is dropped. Refuses ``tariff_incompatible``,
    ``tariff_inactive``, ``nothing_to_change`` and pricing errors, writing nothing.
    """
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        locked = _lock(service)
        s = locked.service
        _check_open(s)
        current = Tariff.objects.select_related("product_type").get(pk=s.tariff_id)
        _check_compatible(s, current, tariff)
        book = PriceBook()
        info = book.info(tariff.pk, s.currency)
        known = {a.intname for a in info.top_addons}
        values = (
            dict(addon_values)
            if addon_values is not None
            else {k: v for k, v in (s.addon_values or {}).items() if k in known}
        )
        _reprice(
            locked,
            book,
            tariff.pk,
            values,
            current.product_type.downgrade_policy,
            ExpenseReason.UPGRADE,
            moment,
            actor,
            drop_special=True,
        )
    s.refresh_from_db()
    return s


def _check_compatible(s: Service, current: Tariff, new: Tariff) -> None:
    if new.pk == current.pk:
        raise BillingError("the service is on this tariff already", code="nothing_to_change")
    if new.provider_id != s.provider_id or new.product_type_id != current.product_type_id:
        raise BillingError(
            "the tariff belongs to another product type or provider", code="tariff_incompatible"
        )
    if new.status != TariffStatus.ACTIVE:
        raise BillingError("the tariff cannot be ordered", code="tariff_inactive")


def change_addons(
    *,
    service: Service | int,
    addon_values: Mapping[str, Any],
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Service:
    """Change addon values (only the given ones). Each change is checked against the addon's
    min / max / step and edit policy. More costly: charged now, prorated; cheaper: per the
    product type's downgrade policy (prorated credit now, or at period end). Refuses
    ``nothing_to_change`` and the catalog's addon codes, writing nothing."""
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        locked = _lock(service)
        s = locked.service
        _check_open(s)
        book = PriceBook()
        info = book.info(s.tariff_id, s.currency)
        old = dict(s.addon_values or {})
        for name, value in addon_values.items():
            check_addon_change(info, name, old.get(name), value)
        new = {**old, **addon_values}
        if new == old:
            raise BillingError("the addon values are unchanged", code="nothing_to_change")
        policy = Tariff.objects.values_list("product_type__downgrade_policy", flat=True).get(
            pk=s.tariff_id
        )
        _reprice(
            locked,
            book,
            s.tariff_id,
            new,
            policy,
            ExpenseReason.ADDONS,
            moment,
            actor,
            drop_special=False,
        )
    s.refresh_from_db()
    return s


def _reprice(
    locked: _Locked,
    book: PriceBook,
    tariff_id: int,
    values: dict[str, Any],
    policy: str,
    reason: str,
    now: datetime,
    actor: Actor | None,
    *,
    drop_special: bool,
) -> None:
    """Charge or credit the prorated difference and apply (or schedule) the new plan."""
    s = locked.service
    cur = _current_period(s, now.date())
    old_price = service_price(
        book,
        tariff_id=s.tariff_id,
        currency=s.currency,
        period=cur.period,
        addon_values=s.addon_values or {},
        special_price_minor=s.special_price_minor,
    )
    new_quote = book.price(tariff_id, s.currency, cur.period, values)
    special = s.special_price_minor
    if special is not None and not drop_special:
        special = max(
            0,
            special
            + new_quote
            - book.price(s.tariff_id, s.currency, cur.period, s.addon_values or {}),
        )
    new_price = new_quote if drop_special or special is None else special
    span = (max(now.date(), cur.period_from), cur.period_to)
    if new_price >= old_price:
        amount = prorate(new_price - old_price, cur.fraction)
        if amount:
            _require_funds(locked.wallet, amount)
            _money(locked, ExpenseKind.CHARGE, reason, _adjust_key(s), span, amount, now, actor)
    elif policy == DowngradePolicy.PERIOD_END and cur.fraction > 0:
        PendingChange.objects.update_or_create(
            service=s,
            defaults={
                "tariff_id": tariff_id,
                "addon_values": values,
                "effective_on": cur.period_to,
            },
        )
        _event(
            s, "service.change_scheduled", {"tariff_id": tariff_id, "on": cur.period_to}, actor, now
        )
        return
    else:
        amount = prorate(old_price - new_price, cur.fraction)
        if amount:
            why = ExpenseReason.DOWNGRADE if reason == ExpenseReason.UPGRADE else reason
            _money(locked, ExpenseKind.CREDIT, why, _adjust_key(s), span, amount, now, actor)
    _apply_plan(s, tariff_id, values, None if drop_special else special, now, actor)


def _apply_plan(
    s: Service,
    tariff_id: int,
    values: dict[str, Any],
    special: int | None,
    now: datetime,
    actor: Actor | None,
) -> None:
    data = {"from_tariff": s.tariff_id, "tariff_id": tariff_id, "addon_values": values}
    s.tariff_id = tariff_id
    s.addon_values = values
    s.special_price_minor = special
    s.updated_at = now
    s.save(update_fields=["tariff", "addon_values", "special_price_minor", "updated_at"])
    PendingChange.objects.filter(service=s).delete()
    _event(s, "service.plan_changed", data, actor, now)
    if s.module_instance_id and s.status == S.ACTIVE and (values or s.parameters):
        from billow.services.actions import request_operation

        n = ServiceOperation.objects.filter(service=s, operation="set_param").count()
        request_operation(
            service=s,
            operation="set_param",
            actor=actor,
            now=now,
            payload={"tariff_id": tariff_id, "addon_values": values, "parameters": s.parameters},
            key=f"set_param:{s.pk}:{n + 1}",
        )


# -- deletion ---------------------------------------------------------------------------------


def delete_service(
    *,
    service: Service | int,
    when: str | None = None,
    refund: bool = False,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Service:
    """Delete a service ``now`` or at ``period_end`` (default: the product type's deletion
    policy). Now, with ``refund``, the unused part of the paid period goes back to the balance
    (a refund expense and ledger reversal), never more than was charged for that period.
    Refuses ``service_deleted`` and busy services."""
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        locked = _lock(service)
        s = locked.service
        if s.status == S.DELETED:
            raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
        if s.status in _BUSY:
            raise BillingError("an operation runs on the service", code="service_not_billable")
        today = moment.date()
        mode = when or _deletion_default(s)
        if mode not in ("now", "period_end"):
            raise BillingError("when is 'now' or 'period_end'", code="invalid_choice")
        if mode == "period_end" and s.paid_until is not None and s.paid_until > today:
            s.delete_at_period_end = True
            s.save(update_fields=["delete_at_period_end"])
            _event(s, "service.deletion_scheduled", {"on": s.paid_until}, actor, moment)
            return s
        if refund and s.paid_until is not None and s.paid_until > today:
            _refund_unused(locked, today, moment, actor)
        apply_status_changes([_change(s, S.DELETED, "client_request")], now=moment, actor=actor)
    s.refresh_from_db()
    return s


def _deletion_default(s: Service) -> str:
    policy = Tariff.objects.values_list("product_type__deletion_policy", flat=True).get(
        pk=s.tariff_id
    )
    return "period_end" if policy == DeletionPolicy.PERIOD_END else "now"


def _refund_unused(locked: _Locked, today: date, now: datetime, actor: Actor | None) -> None:
    s = locked.service
    cur = _current_period(s, today)
    price = service_price(
        PriceBook(),
        tariff_id=s.tariff_id,
        currency=s.currency,
        period=cur.period,
        addon_values=s.addon_values or {},
        special_price_minor=s.special_price_minor,
    )
    amount = min(prorate(price, cur.fraction), _net_charged(s, cur.period_from))
    if amount > 0:
        _money(
            locked,
            ExpenseKind.REFUND,
            ExpenseReason.DELETION,
            _adjust_key(s),
            (today, cur.period_to),
            amount,
            now,
            actor,
        )
    set_paid_until({s.pk: today}, now=now)


def _net_charged(s: Service, since: date) -> int:
    rows = dict(
        Expense.objects.filter(service=s, period_to__gt=since)
        .values("kind")
        .annotate(total=Sum("amount_minor"))
        .values_list("kind", "total")
    )
    charged = int(rows.get(ExpenseKind.CHARGE, 0) or 0)
    back = int(rows.get(ExpenseKind.REFUND, 0) or 0) + int(rows.get(ExpenseKind.CREDIT, 0) or 0)
    return charged - back


# -- after a top-up ---------------------------------------------------------------------------


def resume_paid_services(
    *, client_id: int, currency: str, now: datetime | None = None
) -> list[int]:
    """Resume the client's services suspended for non-payment (in ``currency``) whose debt
    balance + credit limit now covers: charge their due periods, in service-id order, then
    resume them. Called by payments after crediting a balance; joins the caller's transaction.
    Returns the ids of the services resumed."""
    moment = clock.now(now)
    day = moment.date()
    with transaction.atomic():
        rules = RunRules(date=day, notice_days=0)
        data = load_chunk(rules, client_id, client_id + 1, PriceBook())
        services = [
            s
            for s in data.services
            if s.status == S.SUSPENDED_NONPAYMENT and s.currency == currency
        ]
        plan = plan_chunk(rules, services, data.wallets, already_charged=data.already_charged)
        resumed = [c for c in plan.changes if c.to_status == S.ACTIVE]
        ids = {c.service_id for c in resumed}
        charges = [c for c in plan.charges if c.service_id in ids]
        if not resumed:
            return []
        from billow.billing.run import write_plan

        plan.charges, plan.changes, plan.notices = charges, resumed, []
        plan.paid_until = {k: v for k, v in plan.paid_until.items() if k in ids}
        write_plan(plan, data.wallet_ids, {}, moment)
    return sorted(ids)


# -- settings ---------------------------------------------------------------------------------


def set_client_billing_settings(
    *,
    client: Client,
    currency: str,
    credit_limit_minor: int = 0,
    postpaid: bool = False,
    actor: Actor | None = None,
) -> ClientBillingSettings:
    """Set a client's credit limit or post-paid mode in one currency (mutually exclusive)."""
    exponent(currency)
    check_amount(credit_limit_minor, field="credit_limit_minor")
    if credit_limit_minor < 0:
        raise BillingError("the credit limit cannot be negative", code="invalid_credit_limit")
    if postpaid and credit_limit_minor:
        raise BillingError(
            "post-paid and a credit limit exclude each other", code="credit_limit_with_postpaid"
        )
    with transaction.atomic(durable=True):
        row, _ = ClientBillingSettings.objects.update_or_create(
            client=client,
            currency=currency,
            defaults={
                "credit_limit_minor": credit_limit_minor,
                "postpaid": postpaid,
                "updated_at": clock.now(),
            },
        )
    return row
