"""Marketing models. The promo part lives in ``promos.models``; bonus and referral add theirs."""

from billow.marketing.promos.models import (
    PromoCode,
    PromoCodeUse,
    Promotion,
    PromotionCondition,
    PromotionDiscount,
    PromoUseStatus,
)

__all__ = [
    "PromoCode",
    "PromoCodeUse",
    "PromoUseStatus",
    "Promotion",
    "PromotionCondition",
    "PromotionDiscount",
]
