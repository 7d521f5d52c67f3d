"""Promotion reads: client facts, the automatic promotions a client gets, and promo-code
checks (read-only; reservation is ``promos.actions.reserve_promo_use``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from billow.accounts.models import Client
from billow.catalog import cache as catalog_cache
from billow.marketing.promos.errors import PromoError, PromoExhaustedError, PromoNotFoundError
from billow.marketing.promos.models import (
    PromoCode,
    PromoCodeUse,
    Promotion,
    PromoUseStatus,
)
from billow.marketing.promos.rules import (
    ClientFacts,
    ConditionInfo,
    DiscountInfo,
    PromotionInfo,
    conditions_hold,
)
from billow.services.models import Service
from billow.services.states import SUSPENDED, ServiceStatus

_PAID_STATUSES = (ServiceStatus.ACTIVE, *SUSPENDED)
#: Facts, or a function that fetches them: only called when a promotion is there to check.
Facts = ClientFacts | Callable[[], ClientFacts]


def _resolve(facts: Facts) -> ClientFacts:
    return facts() if callable(facts) else facts


def normalise_code(code: str) -> str:
    return code.strip().upper()


def get_client_facts(
    client: Client, *, has_paid_order: bool, group_ids: Iterable[int] | None = None
) -> ClientFacts:
    """Facts for condition checks (1 query, 2 without ``group_ids``). ``has_paid_order``
    comes from the orders app."""
    paid = Service.objects.filter(
        client=client, status__in=_PAID_STATUSES, paid_until__isnull=False
    ).count()
    if group_ids is None:
        group_ids = client.groups.values_list("pk", flat=True)
    return ClientFacts(
        group_ids=frozenset(group_ids),
        registered_at=client.created_at,
        paid_services=paid,
        has_paid_order=has_paid_order,
    )


def _valid_now(qs: QuerySet[Promotion], now: datetime) -> QuerySet[Promotion]:
    return qs.filter(is_active=True).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )


def promotion_info(promotion: Promotion, code: PromoCode | None = None) -> PromotionInfo:
    discounts = tuple(
        DiscountInfo(
            target=d.target,
            kind=d.kind,
            percent=d.percent,
            amount_minor=d.amount_minor,
            currency=d.currency,
            tariff_id=d.tariff_id,
            period=d.period,
            addon=d.addon,
        )
        for d in promotion.discounts.all()
    )
    return PromotionInfo(
        id=promotion.pk,
        name=promotion.title or promotion.name,
        stackable=promotion.stackable,
        discounts=discounts,
        code=code.code if code else "",
        code_id=code.pk if code else None,
    )


def _conditions(promotion: Promotion) -> list[ConditionInfo]:
    return [
        ConditionInfo(c.kind, c.group, c.client_group_id, c.value)
        for c in promotion.conditions.all()
    ]


@dataclass(frozen=True, slots=True)
class _AutoPromotion:
    """A code-less promotion as cached: everything but its live use counter."""

    info: PromotionInfo
    conditions: tuple[ConditionInfo, ...]
    first_order_only: bool
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    max_uses_per_client: int | None


def _auto_promotions(provider_id: int) -> tuple[_AutoPromotion, ...]:
    rows = Promotion.objects.filter(
        provider_id=provider_id, requires_code=False, is_active=True
    ).prefetch_related("conditions", "discounts")
    out = []
    for p in rows:  # newest first, as the model orders them
        out.append(
            _AutoPromotion(
                promotion_info(p),
                tuple(_conditions(p)),
                p.first_order_only,
                p.starts_at,
                p.ends_at,
                p.max_uses,
                p.max_uses_per_client,
            )
        )
    return tuple(out)


def list_auto_promotions(
    *, provider_id: int, client: Client, facts: Facts, now: datetime
) -> list[PromotionInfo]:
    """Active code-less promotions the client qualifies for, with room left in their limits.

    The definitions are cached per process under the catalog token (every promotion write
    replaces it); the use counters are read live, and only for promotions that have limits."""
    key = ("auto_promotions", provider_id)
    live = [
        p
        for p in catalog_cache.cached(key, lambda: _auto_promotions(provider_id))
        if (p.starts_at is None or p.starts_at <= now) and (p.ends_at is None or p.ends_at > now)
    ]
    out = []
    for p in live:
        known = _resolve(facts)
        if p.first_order_only and known.has_paid_order:
            continue
        if not conditions_hold(list(p.conditions), known, now) or _promotion_full(p, client.pk):
            continue
        out.append(p.info)
    return out


def _live_uses(client_id: int) -> QuerySet[PromoCodeUse]:
    return PromoCodeUse.objects.filter(client_id=client_id).exclude(status=PromoUseStatus.RELEASED)


def _promotion_full(p: _AutoPromotion, client_id: int) -> bool:
    pk = p.info.id
    if p.max_uses is not None:
        uses = Promotion.objects.filter(pk=pk).values_list("uses", flat=True).first()
        if uses is None or uses >= p.max_uses:
            return True
    per_client = p.max_uses_per_client
    return (
        per_client is not None
        and _live_uses(client_id).filter(promotion_id=pk).count() >= per_client
    )


def check_promo_code(
    *,
    provider_id: int,
    code: str,
    client: Client,
    facts: Facts,
    now: datetime,
    ignore_reference: str = "",
) -> PromotionInfo:
    """The promotion ``code`` unlocks for ``client`` now, or a refusal with a stable code.

    Read-only: a later ``reserve_promo_use`` re-checks the limits under lock.
    ``ignore_reference``: uses already reserved for this reference do not count.
    """
    row = (
        PromoCode.objects.select_related("promotion")
        .filter(provider_id=provider_id, code=normalise_code(code), is_active=True)
        .first()
    )
    if row is None or not row.promotion.is_active:
        raise PromoNotFoundError(f"No promo code {code!r}")
    p = row.promotion
    if not _valid_now(Promotion.objects.filter(pk=p.pk), now).exists():
        raise PromoError("this promo code is not valid now", code="promo_code_expired")
    known = _resolve(facts)
    if p.first_order_only and known.has_paid_order:
        raise PromoError("for the first order only", code="promo_code_first_order_only")
    if not conditions_hold(_conditions(p), known, now):
        raise PromoError("you do not qualify for it", code="promo_code_not_applicable")
    _check_limits(row, client.pk, ignore_reference)
    return promotion_info(p, row)


def _check_limits(row: PromoCode, client_id: int, ignore_reference: str) -> None:
    p = row.promotion
    mine = _live_uses(client_id)
    if ignore_reference:
        mine = mine.exclude(reference=ignore_reference)
    for limit, used in ((row.max_uses, row.uses), (p.max_uses, p.uses)):
        if limit is not None and used >= limit:
            raise PromoExhaustedError("this promo code is used up")
    checks = ((row.max_uses_per_client, {"code": row}), (p.max_uses_per_client, {"promotion": p}))
    for per_client, flt in checks:
        if per_client is not None and mine.filter(**flt).count() >= per_client:
            raise PromoError("you have used it already", code="promo_code_client_limit")


def list_uses_for_reference(reference: str) -> QuerySet[PromoCodeUse]:
    return PromoCodeUse.objects.filter(reference=reference).exclude(status=PromoUseStatus.RELEASED)


def codes_of(promotions: Iterable[PromotionInfo]) -> list[str]:
    return [p.code for p in promotions if p.code]
