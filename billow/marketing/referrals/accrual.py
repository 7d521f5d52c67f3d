"""The daily referral job: see the referrals' new charges, decide what every rule earns, take
back the share of refunded charges, and turn the accruals due before the run day into the
partners' rewards, posted to the ledger (referral expense -> referral payable).

Shape (STYLE "load -> pure plan -> one write"): the charges come through billing's feed in one
query, ``rules.plan_rule`` decides per referral and rule, the writes are bulk. Everything of a
run is one database transaction and every row has a unique key (charge id; rule + charge; the
reward's id in its ledger key), so a rerun of a day writes nothing twice.

The run of day D sees the charges created before D 00:00 UTC and rewards the accruals due on
D-1 or earlier: rewards are dated by their accrual moment, and the run of the 1st pays out the
month before (``payout.pay_out_referral_rewards``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum

from billow.core import clock
from billow.core.rows import insert as rows_insert
from billow.ledger.actions import post_transactions_bulk
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, TransactionKind
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_account_id
from billow.marketing.referrals import sql
from billow.marketing.referrals.feed import ChargeFact, get_charge_feed
from billow.marketing.referrals.models import (
    Referral,
    ReferralAccrual,
    ReferralCharge,
    ReferralProgram,
    ReferralReward,
    ReferralRule,
    ReferralRunDay,
)
from billow.marketing.referrals.programs import rule_info
from billow.marketing.referrals.rules import (
    ChargeInfo,
    Condition,
    Frequency,
    RuleInfo,
    charge_paid_at,
    plan_rule,
    reversal_of,
)

#: Charges committed a little after their ``created_at`` are still seen: each run looks back
#: this far before the last run's cut-off (known charge ids are skipped).
OVERLAP = timedelta(days=1)
#: The first run looks back this far (or to the earliest program start, if later).
FIRST_LOOKBACK = timedelta(days=62)
BATCH = 5000


@dataclass
class DayReport:
    charges: int = 0
    refunds: int = 0
    accruals: int = 0
    reversals: int = 0
    rewards: int = 0
    rewarded_minor: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "charges": self.charges,
            "refunds": self.refunds,
            "accruals": self.accruals,
            "reversals": self.reversals,
            "rewards": self.rewards,
            "rewarded_minor": self.rewarded_minor,
        }


def cut_off(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def accrue_referral_rewards(*, day: date, now: datetime | None = None) -> DayReport:
    """The run of ``day``: see charges created before ``day`` 00:00 UTC, accrue, reverse, and
    reward every accrual due before ``day``. Idempotent; one transaction."""
    moment = clock.now(now)
    until = cut_off(day)
    report = DayReport()
    with transaction.atomic():
        since = _since(until)
        programs = {p.pk: p for p in ReferralProgram.objects.all()}
        rules = _rules_by_program()
        if since < until:
            new = _ingest(since, until, programs, report)
            _accrue(new, rules, report)
            _reverse(new, report)
        _settle_payments(until)
        _reward(day, programs, report, moment)
        ReferralRunDay.objects.update_or_create(
            day=day, defaults={"through": until, "report": report.as_dict(), "finished_at": moment}
        )
    return report


def _since(until: datetime) -> datetime:
    last = ReferralRunDay.objects.filter(through__lte=until).order_by("-through").first()
    if last is not None:
        return last.through - OVERLAP
    first = (
        ReferralProgram.objects.order_by("starts_on").values_list("starts_on", flat=True).first()
    )
    start = until - FIRST_LOOKBACK
    if first is not None:
        start = max(start, cut_off(first) - OVERLAP)
    return start


def _rules_by_program() -> dict[int, list[RuleInfo]]:
    out: dict[int, list[RuleInfo]] = defaultdict(list)
    for r in ReferralRule.objects.filter(is_active=True).order_by("position", "id"):
        out[r.program_id].append(rule_info(r))
    return out


@dataclass(frozen=True, slots=True)
class _Ref:
    id: int
    partner_id: int
    program_id: int
    client_id: int
    joined_at: datetime
    reward_until: datetime | None
    unlinked_at: datetime | None


def _referrals(since: datetime) -> dict[int, list[_Ref]]:
    rows = Referral.objects.filter(
        Q(unlinked_at__isnull=True) | Q(unlinked_at__gt=since)
    ).values_list(
        "id",
        "partner_id",
        "partner__program_id",
        "client_id",
        "joined_at",
        "reward_until",
        "unlinked_at",
    )
    out: dict[int, list[_Ref]] = defaultdict(list)
    for row in rows:
        out[row[3]].append(_Ref(*row))
    return out


def _referral_of(refs: list[_Ref], at: datetime) -> _Ref | None:
    for r in refs:
        if r.joined_at <= at and (r.unlinked_at is None or at < r.unlinked_at):
            return r
    return None


def _eligible(fact: ChargeFact, ref: _Ref, program: ReferralProgram) -> bool:
    day = fact.created_at.date()
    return (
        fact.provider_id == program.provider_id
        and fact.currency == program.currency
        and program.starts_on <= day
        and (program.ends_on is None or day <= program.ends_on)
        and (ref.reward_until is None or fact.created_at < ref.reward_until)
    )


def _ingest(
    since: datetime, until: datetime, programs: dict[int, ReferralProgram], report: DayReport
) -> list[tuple[ReferralCharge, _Ref]]:
    """Store the referrals' charges and refunds created in ``[since, until)`` not seen yet."""
    refs = _referrals(since)
    if not refs:
        return []
    clients = Referral.objects.filter(
        Q(unlinked_at__isnull=True) | Q(unlinked_at__gt=since)
    ).values("client_id")
    facts = get_charge_feed()(client_ids=clients, since=since, until=until)
    known = set(
        ReferralCharge.objects.filter(charged_at__gte=since, charged_at__lt=until).values_list(
            "id", flat=True
        )
    )
    rows: list[tuple[ReferralCharge, _Ref]] = []
    for fact in facts:
        if fact.id in known:
            continue
        ref = _referral_of(refs.get(fact.client_id, []), fact.created_at)
        if ref is None:
            continue
        program = programs[ref.program_id]
        row = ReferralCharge(
            id=fact.id,
            referral_id=ref.id,
            service_id=fact.service_id,
            period_from=fact.period_from,
            period_to=fact.period_to,
            net_minor=fact.net_minor,
            currency=fact.currency,
            charged_at=fact.created_at,
            eligible=fact.net_minor > 0 and _eligible(fact, ref, program),
        )
        rows.append((row, ref))
        if fact.net_minor > 0:
            report.charges += 1
        else:
            report.refunds += 1
    sql.insert_charge_rows(
        [
            (
                r.pk,
                r.referral_id,
                r.service_id,
                r.period_from,
                r.period_to,
                r.net_minor,
                r.currency,
                r.charged_at,
                r.eligible,
                None,
            )
            for r, _ in rows
        ]
    )
    return rows


def _accrue(
    new: list[tuple[ReferralCharge, _Ref]], rules: dict[int, list[RuleInfo]], report: DayReport
) -> None:
    """Plan every rule on the new charges of each referral and insert the accruals."""
    by_ref: dict[int, list[ChargeInfo]] = defaultdict(list)
    ref_of: dict[int, _Ref] = {}
    for row, ref in new:
        if row.net_minor > 0 and row.eligible and rules.get(ref.program_id):
            by_ref[ref.id].append(ChargeInfo(row.pk, row.net_minor, row.charged_at, True))
            ref_of[ref.id] = ref
    if not by_ref:
        return
    used_rules = {r for ref in ref_of.values() for r in rules[ref.program_id]}
    history = _history(by_ref, used_rules)
    counts = _rewarded_counts(by_ref, used_rules)
    out: list[tuple[Any, ...]] = []
    for ref_id, charges in by_ref.items():
        ref = ref_of[ref_id]
        past = history.get(ref_id, charges)
        for rule in rules[ref.program_id]:
            for p in plan_rule(rule, charges, past, counts.get((ref_id, rule.id), 0), {}):
                out.append(
                    (rule.id, ref.partner_id, ref_id, p.charge_id, p.amount_minor, 0, 0, p.due_on)
                )
    sql.insert_accrual_rows(out)
    report.accruals += len(out)


def _history(
    by_ref: dict[int, list[ChargeInfo]], rules: Iterable[RuleInfo]
) -> dict[int, list[ChargeInfo]]:
    """Each referral's charges and refunds over the longest turnover period (turnover rules)."""
    days = max((r.turnover_days for r in rules if r.condition == Condition.TURNOVER), default=0)
    if not days:
        return {}
    oldest = min(c.charged_at for cs in by_ref.values() for c in cs) - timedelta(days=days)
    out: dict[int, list[ChargeInfo]] = defaultdict(list)
    rows = ReferralCharge.objects.filter(
        referral_id__in=list(by_ref), charged_at__gt=oldest
    ).values_list("referral_id", "id", "net_minor", "charged_at")
    for ref_id, pk, net, at in rows:
        out[ref_id].append(ChargeInfo(pk, net, at))
    return out


def _rewarded_counts(
    by_ref: dict[int, list[ChargeInfo]], rules: Iterable[RuleInfo]
) -> dict[tuple[int, int], int]:
    limited = [r.id for r in rules if r.frequency in (Frequency.ONCE, Frequency.FIRST_N)]
    if not limited:
        return {}
    rows = (
        ReferralAccrual.objects.filter(
            rule_id__in=limited, referral_id__in=list(by_ref), amount_minor__gt=0
        )
        .values_list("referral_id", "rule_id")
        .order_by()
    )
    out: dict[tuple[int, int], int] = defaultdict(int)
    for key in rows:
        out[key] += 1
    return out


def _reverse(new: list[tuple[ReferralCharge, _Ref]], report: DayReport) -> None:
    """Each new refund takes back, in proportion, what the refunded charge earned: from an
    accrual not rewarded yet directly, from a rewarded one by a negative accrual."""
    for refund, ref in new:
        if refund.net_minor >= 0:
            continue
        original = (
            ReferralCharge.objects.filter(
                referral_id=ref.id,
                service_id=refund.service_id,
                net_minor__gt=0,
                period_from__lte=refund.period_from,
                period_to__gt=refund.period_from,
                charged_at__lte=refund.charged_at,
            )
            .order_by("-charged_at", "-id")
            .first()
        )
        if original is None:
            continue
        for accrual in ReferralAccrual.objects.select_for_update().filter(
            charge=original, amount_minor__gt=0
        ):
            back = reversal_of(
                accrual.amount_minor, accrual.reversed_minor, original.net_minor, -refund.net_minor
            )
            if not back:
                continue
            accrual.reversed_minor += back
            report.reversals += 1
            if accrual.reward_id is None:
                accrual.withheld_minor += back
                accrual.save(update_fields=["reversed_minor", "withheld_minor"])
                continue
            accrual.save(update_fields=["reversed_minor"])
            ReferralAccrual.objects.create(
                rule_id=accrual.rule_id,
                partner_id=accrual.partner_id,
                referral_id=accrual.referral_id,
                charge=refund,
                amount_minor=-back,
                due_on=refund.charged_at.date(),
            )


def _settle_payments(until: datetime) -> None:
    """On-payment accruals get their day once their charge is paid: the first moment the
    referral's balance is out of debt at or after the charge (ledger entries)."""
    waiting = list(
        ReferralAccrual.objects.filter(reward__isnull=True, due_on__isnull=True).select_related(
            "charge", "referral__partner__program"
        )
    )
    if not waiting:
        return
    by_wallet: dict[tuple[int, int, str], list[ReferralAccrual]] = defaultdict(list)
    for a in waiting:
        program = a.referral.partner.program
        by_wallet[(a.referral.client_id, program.provider_id, a.charge.currency)].append(a)
    for (client_id, provider_id, currency), accruals in by_wallet.items():
        account = LedgerAccount.objects.filter(
            kind=AccountKind.CLIENT_BALANCE,
            client_id=client_id,
            provider_id=provider_id,
            currency=currency,
        ).first()
        if account is None:
            continue
        first = min(a.charge.charged_at for a in accruals)
        entries = list(
            LedgerEntry.objects.filter(
                account=account,
                transaction__created_at__gte=first,
                transaction__created_at__lt=until,
            )
            .order_by("transaction__created_at", "id")
            .values_list("transaction__created_at", "amount_minor")
        )
        later = (
            LedgerEntry.objects.filter(
                account=account, transaction__created_at__gte=first
            ).aggregate(s=Sum("amount_minor"))["s"]
            or 0
        )
        running = account.balance_minor - int(later)
        balances = []
        for at, amount in entries:
            running += amount
            balances.append((at, running))
        paid = charge_paid_at([(a.charge_id, a.charge.charged_at) for a in accruals], balances)
        for a in accruals:
            when = paid.get(a.charge_id)
            if when is not None:
                a.due_on = when.date()
                a.save(update_fields=["due_on"])


def _reward(
    day: date, programs: dict[int, ReferralProgram], report: DayReport, moment: datetime
) -> None:
    """Sum the accruals due before ``day`` per (partner, rule, due day) into reward rows, post
    each to the ledger and link the accruals to it."""
    pending = (
        ReferralAccrual.objects.filter(reward__isnull=True, due_on__lt=day)
        .values("partner_id", "rule_id", "due_on", "partner__program_id", "partner__client_id")
        .annotate(total=Sum(F("amount_minor") - F("withheld_minor")))
        .order_by("partner_id", "rule_id", "due_on")
    )
    taken = set(
        ReferralReward.objects.filter(run_day=day).values_list("partner_id", "rule_id", "day")
    )
    rewards: list[ReferralReward] = []
    owners: list[tuple[int, int]] = []  # (partner client, program) per reward
    for row in pending:
        key = (row["partner_id"], row["rule_id"], row["due_on"])
        if key in taken:  # a late accrual of a day this run rewarded: the next run takes it
            continue
        program = programs[row["partner__program_id"]]
        rewards.append(
            ReferralReward(
                partner_id=row["partner_id"],
                rule_id=row["rule_id"],
                day=row["due_on"],
                amount_minor=int(row["total"] or 0),
                currency=program.currency,
                run_day=day,
            )
        )
        owners.append((row["partner__client_id"], program.pk))
    if not rewards:
        return
    rows_insert(rewards)
    _post_rewards(rewards, owners, programs, moment)
    ReferralAccrual.objects.filter(reward__isnull=True, due_on__lt=day).update(
        reward_id=Subquery(
            ReferralReward.objects.filter(
                partner_id=OuterRef("partner_id"),
                rule_id=OuterRef("rule_id"),
                day=OuterRef("due_on"),
                run_day=day,
            ).values("id")[:1]
        )
    )
    report.rewards += len(rewards)
    for r in rewards:
        report.rewarded_minor[r.currency] = (
            report.rewarded_minor.get(r.currency, 0) + r.amount_minor
        )


def payable_accounts(
    keys: set[tuple[int, int, str]], kind: str = AccountKind.REFERRAL_PAYABLE
) -> dict[tuple[int, int, str], int]:
    """Ledger account ids of ``kind`` for (client, provider, currency), the missing ones
    created (in bulk; the unique constraints keep one per owner)."""
    found = _find_accounts(keys, kind)
    missing = keys - found.keys()
    if missing:
        LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(kind=kind, client_id=c, provider_id=p, currency=cur)
                for c, p, cur in sorted(missing)
            ],
            ignore_conflicts=True,
            batch_size=BATCH,
        )
        found.update(_find_accounts(missing, kind))
    return found


def _find_accounts(keys: set[tuple[int, int, str]], kind: str) -> dict[tuple[int, int, str], int]:
    if not keys:
        return {}
    clients = {k[0] for k in keys}
    rows = LedgerAccount.objects.filter(
        kind=kind, client_id__in=clients, provider__isnull=False
    ).values_list("client_id", "provider_id", "currency", "id")
    return {(c, p, cur): i for c, p, cur, i in rows if (c, p, cur) in keys}


def _post_rewards(
    rewards: list[ReferralReward],
    owners: list[tuple[int, int]],
    programs: dict[int, ReferralProgram],
    moment: datetime,
) -> None:
    keys = {
        (client, programs[prog].provider_id, r.currency)
        for r, (client, prog) in zip(rewards, owners, strict=True)
    }
    payable = payable_accounts(keys)
    expense = {
        (p, cur): get_account_id(kind=AccountKind.REFERRAL_EXPENSE, currency=cur, provider_id=p)
        for _, p, cur in keys
    }
    postings = []
    for r, (client, prog) in zip(rewards, owners, strict=True):
        if not r.amount_minor:
            continue
        provider_id = programs[prog].provider_id
        account = payable[(client, provider_id, r.currency)]
        postings.append(
            Posting(
                TransactionKind.REFERRAL_REWARD,
                [(account, r.amount_minor), (expense[(provider_id, r.currency)], -r.amount_minor)],
                f"referral:reward:{r.pk}",
                f"marketing.referralreward:{r.pk}",
                f"referral reward {r.day.isoformat()}, rule {r.rule_id}",
            )
        )
    if postings:
        post_transactions_bulk(postings, now=moment)
