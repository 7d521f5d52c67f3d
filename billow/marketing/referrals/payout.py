"""Payout on the 1st: every partner's unpaid rewards dated before the 1st, summed per currency,
go to the partner's balance (ledger: referral payable -> client balance), or, above the
program's bank threshold, wait as a bank payout for staff to confirm (then payable -> the
provider's gateway clearing: the money left through the bank) or reject (the rewards wait for
the next 1st).

Guarantees: one payout per (partner, month, currency) (unique), its ledger transaction keyed
``referral:payout:<partner>:<month>:<currency>``, all in one transaction, so running the 1st
again pays nothing twice. A month whose rewards sum to zero or less pays nothing; the rows
stay unpaid and count on the next 1st.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum

from billow.core import clock
from billow.core.actors import Actor
from billow.core.rows import insert as rows_insert
from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_account_id
from billow.marketing.referrals.accrual import payable_accounts
from billow.marketing.referrals.errors import ReferralConflictError, ReferralError
from billow.marketing.referrals.models import (
    PayoutMethod,
    PayoutStatus,
    ReferralPayout,
    ReferralReward,
)
from billow.marketing.referrals.programs import record_event


@dataclass
class PayoutReport:
    to_balance: int = 0
    to_bank: int = 0
    amounts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"to_balance": self.to_balance, "to_bank": self.to_bank, "amounts": self.amounts}


def payout_key(partner_id: int, month: date, currency: str) -> str:
    return f"referral:payout:{partner_id}:{month.isoformat()}:{currency}"


def pay_out_referral_rewards(*, month: date, now: datetime | None = None) -> PayoutReport:
    """Pay the partners' unpaid rewards dated before ``month`` (a 1st). Idempotent."""
    if month.day != 1:
        raise ReferralError("payouts are made on the 1st", code="invalid_payout_day")
    moment = clock.now(now)
    report = PayoutReport()
    with transaction.atomic():
        done = set(ReferralPayout.objects.filter(month=month).values_list("partner_id", "currency"))
        sums = (
            ReferralReward.objects.filter(payout__isnull=True, day__lt=month)
            .values(
                "partner_id",
                "currency",
                "partner__client_id",
                "partner__program__provider_id",
                "partner__program__bank_payout_threshold_minor",
            )
            .annotate(total=Sum("amount_minor"))
            .order_by("partner_id", "currency")
        )
        payouts: list[ReferralPayout] = []
        owners: list[tuple[int, int]] = []
        for row in sums:
            total = int(row["total"] or 0)
            if total <= 0 or (row["partner_id"], row["currency"]) in done:
                continue
            threshold = row["partner__program__bank_payout_threshold_minor"]
            bank = threshold is not None and total > threshold
            payouts.append(
                ReferralPayout(
                    partner_id=row["partner_id"],
                    month=month,
                    currency=row["currency"],
                    amount_minor=total,
                    method=PayoutMethod.BANK if bank else PayoutMethod.BALANCE,
                    status=PayoutStatus.AWAITING if bank else PayoutStatus.PAID,
                    created_at=moment,
                    decided_at=None if bank else moment,
                )
            )
            owners.append((row["partner__client_id"], row["partner__program__provider_id"]))
            if bank:
                report.to_bank += 1
            else:
                report.to_balance += 1
                report.amounts[row["currency"]] = report.amounts.get(row["currency"], 0) + total
        if not payouts:
            return report
        rows_insert(payouts)
        _post_to_balances(payouts, owners, moment)
        ReferralReward.objects.filter(payout__isnull=True, day__lt=month).update(
            payout_id=Subquery(
                ReferralPayout.objects.filter(
                    partner_id=OuterRef("partner_id"), month=month, currency=OuterRef("currency")
                ).values("id")[:1]
            )
        )
    return report


def _post_to_balances(
    payouts: list[ReferralPayout], owners: list[tuple[int, int]], moment: datetime
) -> None:
    paid = [
        (p, o) for p, o in zip(payouts, owners, strict=True) if p.method == PayoutMethod.BALANCE
    ]
    if not paid:
        return
    keys = {(client, provider, p.currency) for p, (client, provider) in paid}
    payable = payable_accounts(keys)
    balances = payable_accounts(keys, AccountKind.CLIENT_BALANCE)
    postings = [
        Posting(
            TransactionKind.REFERRAL_PAYOUT,
            [
                (payable[(client, provider, p.currency)], -p.amount_minor),
                (balances[(client, provider, p.currency)], p.amount_minor),
            ],
            payout_key(p.partner_id, p.month, p.currency),
            f"marketing.referralpayout:{p.pk}",
            f"referral rewards paid {p.month.isoformat()}",
        )
        for p, (client, provider) in paid
    ]
    post_transactions_bulk(postings, now=moment)


def confirm_bank_payout(
    *, payout: ReferralPayout, actor: Actor | None = None, now: datetime | None = None
) -> ReferralPayout:
    """Staff: the bank payout was sent. Posts payable -> the provider's gateway clearing.
    ``referral_payout_not_awaiting`` unless it awaits confirmation."""
    moment = clock.now(now)
    with transaction.atomic():
        locked = (
            ReferralPayout.objects.select_for_update()
            .select_related("partner__program")
            .get(pk=payout.pk)
        )
        if locked.status != PayoutStatus.AWAITING:
            raise ReferralConflictError(
                "the payout does not await confirmation", code="referral_payout_not_awaiting"
            )
        program = locked.partner.program
        key = (locked.partner.client_id, program.provider_id, locked.currency)
        payable = payable_accounts({key})[key]
        clearing = get_account_id(
            kind=AccountKind.GATEWAY_CLEARING,
            currency=locked.currency,
            provider_id=program.provider_id,
        )
        post_transaction(
            kind=TransactionKind.REFERRAL_PAYOUT,
            legs=[(payable, -locked.amount_minor), (clearing, locked.amount_minor)],
            idempotency_key=payout_key(locked.partner_id, locked.month, locked.currency),
            reference=locked,
            memo=f"referral rewards paid by bank {locked.month.isoformat()}",
            actor=actor,
        )
        locked.status = PayoutStatus.PAID
        locked.decided_at = moment
        locked.decided_by = _who(actor)
        locked.save(update_fields=["status", "decided_at", "decided_by"])
        record_event(
            actor,
            "referral.payout_confirmed",
            {"payout": locked.pk, "amount_minor": locked.amount_minor, "currency": locked.currency},
            program_id=program.pk,
            now=moment,
        )
    return locked


def reject_bank_payout(
    *, payout: ReferralPayout, reason: str, actor: Actor | None = None, now: datetime | None = None
) -> ReferralPayout:
    """Staff: the bank payout is not made; its rewards wait for the next 1st (nothing moves)."""
    if not reason.strip():
        raise ReferralError("a reason is required", code="reason_required")
    moment = clock.now(now)
    with transaction.atomic():
        locked = (
            ReferralPayout.objects.select_for_update().select_related("partner").get(pk=payout.pk)
        )
        if locked.status != PayoutStatus.AWAITING:
            raise ReferralConflictError(
                "the payout does not await confirmation", code="referral_payout_not_awaiting"
            )
        locked.rewards.update(payout=None)
        locked.status = PayoutStatus.REJECTED
        locked.decided_at = moment
        locked.decided_by = _who(actor)
        locked.reason = reason.strip()
        locked.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        record_event(
            actor,
            "referral.payout_rejected",
            {"payout": locked.pk, "reason": locked.reason},
            program_id=locked.partner.program_id,
            now=moment,
        )
    return locked


def _who(actor: Actor | None) -> str:
    if actor is None:
        return ""
    return f"{actor.kind}:{actor.id or actor.label}"[:100]
