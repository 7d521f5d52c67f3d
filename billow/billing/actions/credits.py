"""A credit note issued by staff: part of a charge given back to the balance, with its tax."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q, Sum

from billow.billing.actions.common import lock_service, post_money
from billow.billing.bonus import reverse_bonus_for_service_refund
from billow.billing.errors import BillingError
from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.core import clock
from billow.core.actors import Actor
from billow.services.actions import record_event


def credit_charge(
    *,
    charge: Expense | int,
    amount_minor: int,
    reason: str,
    nonce: str,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Expense:
    """Give ``amount_minor`` of a charge back to the client's balance, as staff decided for
    ``reason``: a credit expense (keyed by the form's ``nonce``, so a repost credits once)
    that gives back its share of the tax charged, and a credit note against the charge's
    invoice carrying the reason (net, tax, total).

    ``amount_minor`` is the price part, as on the invoice line; the tax on it comes back too.
    Refuses ``reason_required``, ``invalid_credit_amount``, ``not_a_charge``,
    ``credit_exceeds_charge`` (more than is left of the charge after refunds and credits of its
    days) and the invoice's ``credit_note_exceeds_invoice``, writing nothing."""
    moment = clock.now(now)
    pk = charge if isinstance(charge, int) else charge.pk
    text = reason.strip()
    if not text:
        raise BillingError("a reason is required", code="reason_required")
    if amount_minor <= 0:
        raise BillingError("the amount must be positive", code="invalid_credit_amount")
    key = f"staff_credit:{nonce}"
    with transaction.atomic(durable=True):
        service_id = Expense.objects.values_list("service_id", flat=True).get(pk=pk)
        locked = lock_service(service_id)
        done = Expense.objects.filter(key=key).first()
        if done is not None:
            return done
        found = Expense.objects.get(pk=pk)
        if found.kind != ExpenseKind.CHARGE:
            raise BillingError("only a charge can be credited", code="not_a_charge")
        left = found.amount_minor - _given_back(found)
        if amount_minor > left:
            raise BillingError(
                "more than is left of the charge",
                code="credit_exceeds_charge",
                available_minor=left,
            )
        expense = post_money(
            locked,
            ExpenseKind.CREDIT,
            ExpenseReason.STAFF_CREDIT,
            key,
            (found.period_from, found.period_to),
            amount_minor,
            moment,
            actor,
            text[:300],
            invoice_id=found.invoice_id,
        )
        reverse_bonus_for_service_refund(
            locked,
            refund_key=key,
            refunded_minor=amount_minor,
            charges=[(found.key, found.amount_minor)],
            actor=actor,
            now=moment,
        )
        data = {"charge": found.key, "credit": key, "amount_minor": amount_minor, "reason": text}
        record_event(locked.service, "service.credited", actor, data, moment)
    return expense


def _given_back(charge: Expense) -> int:
    """Refunds and credits of the charge's service over its days so far."""
    total = Expense.objects.filter(
        Q(kind=ExpenseKind.REFUND) | Q(kind=ExpenseKind.CREDIT),
        service_id=charge.service_id,
        period_to__gt=charge.period_from,
        period_from__lt=charge.period_to,
    ).aggregate(s=Sum("amount_minor"))["s"]
    return int(total or 0)
