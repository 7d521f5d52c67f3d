"""Resuming services suspended for non-payment once a top-up covers them (or a promised
payment lends the credit): the invoices the balance now covers are settled first, so a client
the credit terms blocked is resumed once it is not blocked any more (``billing.credit``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billow.billing.credit import apply_credit_terms
from billow.billing.plan import (
    RunRules,
    plan_chunk,
)
from billow.billing.plan_change import (
    S,
)
from billow.billing.selectors import ChunkData, PriceBook, load_chunk, load_hourly_chunk
from billow.billing.wallet import lock_wallets_in_range
from billow.core import clock


def resume_paid_services(
    *, client_id: int, currency: str, now: datetime | None = None
) -> list[int]:
    """Resume the client's services suspended for non-payment (in ``currency``) whose debt
    balance + credit limit now covers: charge their due periods (hourly services: their hours
    up to now), in service-id order, then resume them. Called by payments after crediting a
    balance; joins the caller's transaction. Returns the ids of the services resumed."""
    moment = clock.now(now)
    day = moment.date()
    book = PriceBook()
    with transaction.atomic():
        rules = RunRules(date=day, notice_days=0)
        lo, hi = client_id, client_id + 1
        wallet_rows = lock_wallets_in_range(lo, hi)
        credit = apply_credit_terms(wallet_rows, lo, hi, day=day, now=moment)
        data = load_chunk(rules, lo, hi, book, wallet_rows=wallet_rows, credit=credit)
        ids = _resume(rules, data, currency, moment)
        # Hourly services: their hours up to now, as the hourly run would charge them.
        hourly = RunRules(date=moment, notice_days=0)
        ids += _resume(hourly, load_hourly_chunk(hourly, lo, hi, book), currency, moment)
    return sorted(ids)


def _resume(rules: RunRules, data: ChunkData, currency: str, moment: datetime) -> list[int]:
    services = [
        s for s in data.services if s.status == S.SUSPENDED_NONPAYMENT and s.currency == currency
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
    write_plan(plan, data.wallet_ids, {}, moment, services=services)
    return list(ids)
