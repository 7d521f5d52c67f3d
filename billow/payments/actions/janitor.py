"""The payments janitor: resolve ``unknown`` and stale ``pending`` payments by asking the gateway.

Huey delivers at most once and gateways lose webhooks, so the database rows are the truth and
this sweep closes the loop (like BILLmanager's CHECKPAY): an ``unknown`` payment without a
gateway reference is started again with the same idempotency key (the gateway returns the same
object); one with a reference is fetched; a payment still open ``give_up_after`` its creation is
cancelled (``expired``), except for gateways that staff confirm by hand (bank transfer).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db.models import Q

from billow.core import clock
from billow.core.actors import Actor
from billow.payments.actions.gateway_calls import build_gateway, call_gateway, payment_request
from billow.payments.actions.outcomes import apply_outcome
from billow.payments.errors import PaymentConflictError
from billow.payments.gateways.base import Outcome, OutcomeStatus
from billow.payments.models import Payment
from billow.payments.states import PaymentStatus

S = PaymentStatus
STALE_AFTER = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(days=7)
BATCH = 200


def resolve_open_payments(
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
    give_up_after: timedelta = GIVE_UP_AFTER,
    limit: int = BATCH,
) -> dict[str, int]:
    """One sweep over at most ``limit`` open payments; returns counts by resulting status.

    Each payment is resolved on its own (a gateway call, then one short transaction), so one
    unreachable gateway does not hold back the others.
    """
    moment = clock.now(now)
    actor = Actor.job("payments.janitor")
    due = (
        Payment.objects.filter(
            Q(status=S.UNKNOWN) | Q(status=S.PENDING, updated_at__lte=moment - stale_after)
        )
        .select_related("method", "client", "saved_method")
        .order_by("updated_at", "id")[:limit]
    )
    counts: Counter[str] = Counter()
    for payment in due:
        counts[_resolve(payment, moment, give_up_after, actor)] += 1
    return dict(counts)


def _resolve(payment: Payment, moment: datetime, give_up_after: timedelta, actor: Actor) -> str:
    gateway = build_gateway(payment.method)
    if gateway.manual_confirmation:
        return "awaiting_staff"
    if payment.gateway_reference:
        outcome = call_gateway(lambda: gateway.fetch(payment.gateway_reference))
    elif payment.saved_method_id is not None:
        outcome = call_gateway(lambda: gateway.charge_saved(payment_request(payment)))
    else:
        outcome = call_gateway(lambda: gateway.start(payment_request(payment)))
    expired = payment.created_at <= moment - give_up_after
    if outcome.status in (OutcomeStatus.PENDING, OutcomeStatus.UNKNOWN) and expired:
        outcome = Outcome(OutcomeStatus.CANCELLED, reference=outcome.reference, code="expired")
    if outcome.status == OutcomeStatus.UNKNOWN and payment.status == S.UNKNOWN:
        return "still_unknown"
    try:
        result = apply_outcome(payment=payment, outcome=outcome, actor=actor, now=moment)
    except PaymentConflictError as exc:
        return exc.code
    if result.status == S.PENDING:
        # Touch it so the next sweep asks again only after ``stale_after``.
        Payment.objects.filter(pk=result.pk, status=S.PENDING).update(updated_at=moment)
    return str(result.status)
