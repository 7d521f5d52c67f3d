"""Marketing models. The promo part lives in ``promo_models``; bonus and referral add theirs."""

from billow.marketing.promo_models import (
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
