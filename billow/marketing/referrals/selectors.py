"""Referral reads for the partner page, the API and the staff pages (and their CSV).

Per-referral figures come from one aggregate query each: first and last purchase (every
charge counts, even one that earned nothing), total charges (net, less refunds) and the amount
actually paid out (rewards in a paid payout; nothing while a bank payout awaits staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from billow.accounts.models import Client
from billow.marketing.referrals.attribution import partner_link
from billow.marketing.referrals.models import (
    PayoutStatus,
    Referral,
    ReferralAccrual,
    ReferralCharge,
    ReferralPartner,
    ReferralPayout,
    ReferralProgram,
    ReferralReward,
)


@dataclass(frozen=True, slots=True)
class ReferralRow:
    id: int
    client_id: int
    name: str
    email: str
    joined_at: datetime
    source: str
    source_label: str
    source_detail: str
    first_purchase: datetime | None
    last_purchase: datetime | None
    total_charges_minor: int
    paid_minor: int
    rule_ids: tuple[int, ...]
    unlinked_at: datetime | None


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: date
    accrued_minor: int
    paid_minor: int
    awaiting_minor: int


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    partner: ReferralPartner
    program: ReferralProgram
    link: str
    promo_code: str
    clicks: int
    currency: str
    referrals: list[ReferralRow]
    months: list[MonthRow]
    unpaid_minor: int


def list_partners_for_client(client: Client | int) -> QuerySet[ReferralPartner]:
    pk = client if isinstance(client, int) else client.pk
    return ReferralPartner.objects.filter(client_id=pk).select_related("program", "promo_code")


def list_joinable_programs(client: Client) -> QuerySet[ReferralProgram]:
    """Active programs of the client's providers it is not a partner of yet."""
    return ReferralProgram.objects.filter(
        provider__in=client.providers.all(), is_active=True
    ).exclude(partners__client=client)


def list_referral_rows(referrals: QuerySet[Referral]) -> list[ReferralRow]:
    """The staff and partner columns of ``referrals`` (three aggregate queries)."""
    refs = list(referrals.select_related("client").order_by("id"))
    ids = [r.pk for r in refs]
    charges = {
        row["referral_id"]: row
        for row in ReferralCharge.objects.filter(referral_id__in=ids)
        .values("referral_id")
        .annotate(
            first=Min("charged_at", filter=Q(net_minor__gt=0)),
            last=Max("charged_at", filter=Q(net_minor__gt=0)),
            total=Sum("net_minor"),
        )
        .order_by()
    }
    paid = dict(
        ReferralAccrual.objects.filter(
            referral_id__in=ids, reward__payout__status=PayoutStatus.PAID
        )
        .values("referral_id")
        .annotate(total=Sum(F("amount_minor") - F("withheld_minor")))
        .values_list("referral_id", "total")
        .order_by()
    )
    rules: dict[int, set[int]] = {}
    for ref_id, rule_id in (
        ReferralAccrual.objects.filter(referral_id__in=ids, amount_minor__gt=0)
        .values_list("referral_id", "rule_id")
        .distinct()
        .order_by()
    ):
        rules.setdefault(ref_id, set()).add(rule_id)
    out = []
    for r in refs:
        c = charges.get(r.pk, {})
        out.append(
            ReferralRow(
                id=r.pk,
                client_id=r.client_id,
                name=r.client.name,
                email=r.client.email,
                joined_at=r.joined_at,
                source=r.source,
                source_label=str(r.get_source_display()),
                source_detail=r.source_detail,
                first_purchase=c.get("first"),
                last_purchase=c.get("last"),
                total_charges_minor=int(c.get("total") or 0),
                paid_minor=int(paid.get(r.pk) or 0),
                rule_ids=tuple(sorted(rules.get(r.pk, ()))),
                unlinked_at=r.unlinked_at,
            )
        )
    return out


def list_months_for_partner(partner: ReferralPartner) -> list[MonthRow]:
    """Rewards by month (of their day): accrued, paid out, awaiting staff."""
    rows = (
        ReferralReward.objects.filter(partner=partner)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(
            accrued=Sum("amount_minor"),
            paid=Sum("amount_minor", filter=Q(payout__status=PayoutStatus.PAID)),
            awaiting=Sum("amount_minor", filter=Q(payout__status=PayoutStatus.AWAITING)),
        )
        .order_by("-month")
    )
    return [
        MonthRow(
            month=r["month"] if isinstance(r["month"], date) else r["month"].date(),
            accrued_minor=int(r["accrued"] or 0),
            paid_minor=int(r["paid"] or 0),
            awaiting_minor=int(r["awaiting"] or 0),
        )
        for r in rows
    ]


def get_partner_info(partner: ReferralPartner) -> PartnerInfo:
    program = partner.program
    unpaid = ReferralReward.objects.filter(partner=partner, payout__isnull=True).aggregate(
        s=Sum("amount_minor")
    )["s"]
    return PartnerInfo(
        partner=partner,
        program=program,
        link=partner_link(partner, program),
        promo_code=partner.promo_code.code if partner.promo_code else "",
        clicks=partner.clicks.count(),
        currency=program.currency,
        referrals=list_referral_rows(partner.referrals.all()),
        months=list_months_for_partner(partner),
        unpaid_minor=int(unpaid or 0),
    )


def list_partner_rows(program: ReferralProgram | None = None) -> QuerySet[ReferralPartner]:
    """Referrers with their numbers of referrals and clicks (staff)."""
    qs = ReferralPartner.objects.select_related("client", "program")
    if program is not None:
        qs = qs.filter(program=program)
    return qs.annotate(
        referral_count=Count("referrals", distinct=True), click_count=Count("clicks", distinct=True)
    )


def list_payouts_awaiting() -> QuerySet[ReferralPayout]:
    return ReferralPayout.objects.filter(status=PayoutStatus.AWAITING).select_related(
        "partner__client"
    )
