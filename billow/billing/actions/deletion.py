"""Deleting a service now or at the end of its paid period, with a refund of the unused part."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Sum

from billow.billing.actions.common import (
    LockedService,
    adjust_key,
    lock_service,
    post_money,
    status_change,
)
from billow.billing.bonus import reverse_bonus_for_service_refund
from billow.billing.errors import BillingError
from billow.billing.models import (
    Expense,
    ExpenseKind,
    ExpenseReason,
)
from billow.billing.plan_change import (
    S,
    current_period,
)
from billow.billing.proration import (
    prorate,
)
from billow.billing.selectors import PriceBook, service_price
from billow.billing.writes import change_notices, notify_after_commit
from billow.catalog.choices import DeletionPolicy
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor, ActorKind
from billow.services.actions import (
    check_reason,
    close_service,
    record_staff_event,
    schedule_deletion,
    set_paid_until,
)
from billow.services.models import Service


def delete_service(
    *,
    service: Service | int,
    when: str | None = None,
    refund: bool = False,
    now: datetime | None = None,
    actor: Actor | None = None,
    staff_reason: str | None = None,
) -> Service:
    """The one way to delete a service, for the client area, the API and the staff admin.

    ``now`` or at ``period_end`` (default: the product type's deletion policy). Now, with
    ``refund``, the unused part of the paid period goes back to the balance (a refund expense
    and ledger reversal), never more than was charged for that period; the service then goes
    through the services app's ``close_service`` (a module's ``close`` operation, or deleted at
    once when it never reached a panel) and the client is notified after commit.
    Refuses ``service_deleted`` and, with ``service_not_billable``, a service an operation runs
    on, or a failed one unless staff (or the system) delete it. ``staff_reason``: staff delete
    it (audited as ``staff.delete`` with the mode and refund)."""
    moment = clock.now(now)
    why = None if staff_reason is None else check_reason(staff_reason)
    with transaction.atomic(durable=True):
        locked = lock_service(service)
        s = locked.service
        if s.status == S.DELETED:
            raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
        if s.status == S.IN_PROGRESS or (s.status == S.FAILED and not _is_staff(actor)):
            raise BillingError("an operation runs on the service", code="service_not_billable")
        today = moment.date()
        mode = when or _deletion_default(s)
        if mode not in ("now", "period_end"):
            raise BillingError("when is 'now' or 'period_end'", code="invalid_choice")
        if mode == "period_end" and s.paid_until is not None and s.paid_until > today:
            if why is not None:
                record_staff_event(
                    s, "delete", actor=actor, reason=why, now=moment, when=mode, refund=False
                )
            return schedule_deletion(service=s, actor=actor, now=moment)
        if refund and s.paid_until is not None and s.paid_until > today:
            _refund_unused(locked, today, moment, actor)
        change = status_change(
            s, S.DELETED, "staff_request" if _is_staff(actor) else "client_request"
        )
        if why is not None:
            record_staff_event(
                s, "delete", actor=actor, reason=why, now=moment, when="now", refund=refund
            )
        close_service(service=s, reason=change.reason, actor=actor, now=moment)
        notify_after_commit(change_notices([change], today))
    s.refresh_from_db()
    return s


def _is_staff(actor: Actor | None) -> bool:
    """Staff may delete a failed service (clients wait until staff resolve its operation)."""
    return actor is not None and actor.kind in (ActorKind.STAFF, ActorKind.SYSTEM)


def _deletion_default(s: Service) -> str:
    policy = Tariff.objects.values_list("product_type__deletion_policy", flat=True).get(
        pk=s.tariff_id
    )
    return "period_end" if policy == DeletionPolicy.PERIOD_END else "now"


def _refund_unused(locked: LockedService, today: date, now: datetime, actor: Actor | None) -> None:
    s = locked.service
    cur = current_period(s, today)
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
        refund = post_money(
            locked,
            ExpenseKind.REFUND,
            ExpenseReason.DELETION,
            adjust_key(s),
            (today, cur.period_to),
            amount,
            now,
            actor,
        )
        reverse_bonus_for_service_refund(
            locked,
            refund_key=refund.key,
            refunded_minor=amount,
            charges=_charges(s, cur.period_from),
            actor=actor,
            now=now,
        )
    set_paid_until({s.pk: today}, now=now)


def _charges(s: Service, since: date) -> list[tuple[str, int]]:
    """The charges of the days a refund from ``since`` gives back (key, amount)."""
    return list(
        Expense.objects.filter(service=s, kind=ExpenseKind.CHARGE, period_to__gt=since).values_list(
            "key", "amount_minor"
        )
    )


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
