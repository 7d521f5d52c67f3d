"""Promo writes: create codes, and the reservation life cycle of a use.

``reserve_promo_use`` runs inside the caller's transaction (the checkout's): it moves the
counters with conditional UPDATEs (``uses < max_uses``), so however many checkouts race, a
limit is never exceeded; a refusal rolls back its savepoint and writes nothing.
Lock order: code row, then promotion row (both via the conditional UPDATE).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from billow.accounts.models import Client, Provider
from billow.core import clock
from billow.core.actors import Actor
from billow.marketing.promos.errors import PromoError, PromoExhaustedError
from billow.marketing.promos.models import (
    PromoCode,
    PromoCodeUse,
    Promotion,
    PromotionDiscount,
    PromoUseStatus,
)
from billow.marketing.promos.rules import DiscountKind, DiscountTarget
from billow.marketing.promos.selectors import normalise_code

_LIVE = ~Q(status=PromoUseStatus.RELEASED)


def create_promo_code(
    *,
    promotion: Promotion,
    code: str,
    max_uses: int | None = None,
    max_uses_per_client: int | None = None,
    actor: Actor | None = None,
) -> PromoCode:
    """A new code for ``promotion`` (upper-cased; ``promo_code_taken`` if it exists)."""
    text = normalise_code(code)
    if not text or not text.replace("-", "").replace("_", "").isalnum():
        raise PromoError("a code is letters, digits, '-' and '_'", code="invalid_promo_code")
    try:
        with transaction.atomic():
            return PromoCode.objects.create(
                promotion=promotion,
                provider=Provider(pk=promotion.provider_id),
                code=text,
                max_uses=max_uses,
                max_uses_per_client=max_uses_per_client,
            )
    except IntegrityError:
        raise PromoError(f"code {text} exists", code="promo_code_taken") from None


def _take(model: type[PromoCode] | type[Promotion], pk: int) -> None:
    room = Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses"))
    if model.objects.filter(room, pk=pk).update(uses=F("uses") + 1) != 1:
        raise PromoExhaustedError("this promo code is used up")


def _check_client_limit(limit: int | None, client: Client, **flt: object) -> None:
    if limit is None:
        return
    if PromoCodeUse.objects.filter(_LIVE, client=client, **flt).count() >= limit:
        raise PromoError("you have used it already", code="promo_code_client_limit")


def reserve_promo_use(
    *,
    promotion_id: int,
    code_id: int | None,
    client: Client,
    reference: str,
    discount_minor: int,
    currency: str,
    now: datetime | None = None,
) -> PromoCodeUse:
    """Reserve one use of the promotion (through ``code_id``) for ``reference``.

    Idempotent per (promotion, reference). Refusals: ``promo_code_exhausted``,
    ``promo_code_client_limit``; they leave nothing behind.
    """
    moment = clock.now(now)
    existing = PromoCodeUse.objects.filter(_LIVE, promotion_id=promotion_id, reference=reference)
    found = existing.first()
    if found is not None:
        return found
    with transaction.atomic():
        if code_id is not None:
            _take(PromoCode, code_id)  # row-locks the code: per-client counts below are serial
            code = PromoCode.objects.get(pk=code_id)
            _check_client_limit(code.max_uses_per_client, client, code_id=code_id)
        promotion = Promotion.objects.get(pk=promotion_id)
        if promotion.max_uses is not None:
            _take(Promotion, promotion_id)
        _check_client_limit(promotion.max_uses_per_client, client, promotion_id=promotion_id)
        return PromoCodeUse.objects.create(
            promotion_id=promotion_id,
            code_id=code_id,
            client=client,
            reference=reference,
            discount_minor=discount_minor,
            currency=currency,
            created_at=moment,
            updated_at=moment,
        )


def confirm_promo_uses(*, reference: str, now: datetime | None = None) -> int:
    """Reserved uses of ``reference`` become confirmed (paid). Returns how many moved."""
    return PromoCodeUse.objects.filter(reference=reference, status=PromoUseStatus.RESERVED).update(
        status=PromoUseStatus.CONFIRMED, updated_at=clock.now(now)
    )


def release_promo_uses(*, reference: str, now: datetime | None = None) -> int:
    """Reserved uses of ``reference`` are released and their counters move back (payment
    failed, order cancelled). Confirmed uses stay. Idempotent."""
    moment = clock.now(now)
    with transaction.atomic():
        uses = list(
            PromoCodeUse.objects.select_for_update().filter(
                reference=reference, status=PromoUseStatus.RESERVED
            )
        )
        for use in uses:
            if use.code_id is not None:
                PromoCode.objects.filter(pk=use.code_id, uses__gt=0).update(uses=F("uses") - 1)
            Promotion.objects.filter(
                pk=use.promotion_id, max_uses__isnull=False, uses__gt=0
            ).update(uses=F("uses") - 1)
            use.status, use.updated_at = PromoUseStatus.RELEASED, moment
            use.save(update_fields=["status", "updated_at"])
    return len(uses)


def create_code_promotion(
    *,
    provider: Provider,
    name: str,
    percent: Decimal,
    first_order_only: bool = True,
    actor: Actor | None = None,
) -> Promotion:
    """A promotion unlocked only by its codes, taking ``percent`` off every line (the referral
    program's partner codes). ``invalid_discount`` unless 0 < percent <= 100."""
    if not Decimal(0) < percent <= Decimal(100):
        raise PromoError(
            "the discount is a percent above 0 and at most 100", code="invalid_discount"
        )
    with transaction.atomic():
        promotion = Promotion.objects.create(
            provider=provider,
            name=name[:200],
            title=name[:200],
            requires_code=True,
            first_order_only=first_order_only,
        )
        PromotionDiscount.objects.create(
            promotion=promotion,
            target=DiscountTarget.ALL,
            kind=DiscountKind.PERCENT,
            percent=percent,
        )
    return promotion
