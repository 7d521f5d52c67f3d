"""Staff writes of promotions and promo codes (the staff API; issue 13.3).

Promotions and codes are referenced by their uses, so they are deactivated (``is_active``),
never deleted. Refusals write nothing: ``invalid_promotion`` (dates out of order, a limit
below the uses already counted, an unknown field), ``invalid_discount``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from billow.accounts.models import Provider
from billow.core.actors import Actor
from billow.core.journal import record_change, snapshot
from billow.marketing.promos.errors import PromoError
from billow.marketing.promos.models import PromoCode, Promotion, PromotionDiscount
from billow.marketing.promos.rules import DiscountKind, DiscountTarget

PROMOTION_MUTABLE = frozenset(
    {
        "name",
        "title",
        "starts_at",
        "ends_at",
        "is_active",
        "requires_code",
        "stackable",
        "first_order_only",
        "max_uses",
        "max_uses_per_client",
    }
)
PROMO_CODE_MUTABLE = frozenset({"is_active", "max_uses", "max_uses_per_client"})


def _check_dates(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise PromoError("the promotion must end after it starts", code="invalid_promotion")


def _check_limit(max_uses: int | None, uses: int) -> None:
    if max_uses is not None and max_uses < uses:
        raise PromoError(
            f"the limit {max_uses} is below the {uses} uses already counted",
            code="invalid_promotion",
        )


def _check_discount(kind: str, percent: Decimal, amount_minor: int, currency: str) -> None:
    if kind == DiscountKind.PERCENT and not Decimal(0) < percent <= Decimal(100):
        raise PromoError(
            "the discount is a percent above 0 and at most 100", code="invalid_discount"
        )
    if kind == DiscountKind.FIXED and (amount_minor <= 0 or len(currency) != 3):
        raise PromoError(
            "a fixed discount needs an amount above 0 and a currency", code="invalid_discount"
        )


def create_promotion(
    *,
    provider: Provider,
    name: str,
    discount_kind: str,
    percent: Decimal = Decimal(0),
    amount_minor: int = 0,
    currency: str = "",
    target: str = DiscountTarget.ALL,
    actor: Actor | None = None,
    **fields: Any,
) -> Promotion:
    """A promotion of ``provider`` with one discount on ``target`` lines (percent, or a fixed
    ``amount_minor`` in ``currency`` per matching line)."""
    unknown = set(fields) - PROMOTION_MUTABLE
    if unknown:
        raise PromoError(f"unknown fields {sorted(unknown)}", code="invalid_promotion")
    _check_dates(fields.get("starts_at"), fields.get("ends_at"))
    _check_discount(discount_kind, percent, amount_minor, currency)
    fixed = discount_kind == DiscountKind.FIXED
    with transaction.atomic():
        promotion = Promotion.objects.create(provider=provider, name=name, **fields)
        PromotionDiscount.objects.create(
            promotion=promotion,
            target=target,
            kind=discount_kind,
            percent=Decimal(0) if fixed else percent,
            amount_minor=amount_minor if fixed else 0,
            currency=currency if fixed else "",
        )
        record_change(actor=actor, obj=promotion, before=None, after=snapshot(promotion))
    return promotion


def update_promotion(
    *, promotion: Promotion, actor: Actor | None = None, **changes: Any
) -> Promotion:
    """Change a promotion's fields (``is_active=False`` deactivates it)."""
    unknown = set(changes) - PROMOTION_MUTABLE
    if unknown:
        raise PromoError(f"cannot change {sorted(unknown)}", code="invalid_promotion")
    _check_dates(
        changes.get("starts_at", promotion.starts_at), changes.get("ends_at", promotion.ends_at)
    )
    if "max_uses" in changes:
        _check_limit(changes["max_uses"], promotion.uses)
    with transaction.atomic():
        before = snapshot(promotion)
        for key, value in changes.items():
            setattr(promotion, key, value)
        promotion.save(update_fields=list(changes))
        record_change(actor=actor, obj=promotion, before=before, after=snapshot(promotion))
    return promotion


def update_promo_code(*, code: PromoCode, actor: Actor | None = None, **changes: Any) -> PromoCode:
    """Change a code's limits or deactivate it (its text is fixed: it may be printed)."""
    unknown = set(changes) - PROMO_CODE_MUTABLE
    if unknown:
        raise PromoError(f"cannot change {sorted(unknown)}", code="invalid_promotion")
    if "max_uses" in changes:
        _check_limit(changes["max_uses"], code.uses)
    with transaction.atomic():
        before = snapshot(code)
        for key, value in changes.items():
            setattr(code, key, value)
        code.save(update_fields=list(changes))
        record_change(
            actor=actor, obj=code, before=before, after=snapshot(code), parent=code.promotion
        )
    return code
