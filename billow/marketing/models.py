"""Marketing models. The promo part lives in ``promos.models``; bonus and referral add theirs."""

from billow.marketing.promos.models import (
    PromoCode,
    PromoCodeUse,
    Promotion,
    PromotionCondition,
    PromotionDiscount,
    PromoUseStatus,
)
from billow.marketing.referrals.models import (
    Referral,
    ReferralAccrual,
    ReferralCharge,
    ReferralClick,
    ReferralEvent,
    ReferralPartner,
    ReferralPayout,
    ReferralProgram,
    ReferralReward,
    ReferralRule,
    ReferralRunDay,
)

__all__ = [
    "PromoCode",
    "PromoCodeUse",
    "PromoUseStatus",
    "Promotion",
    "PromotionCondition",
    "PromotionDiscount",
    "Referral",
    "ReferralAccrual",
    "ReferralCharge",
    "ReferralClick",
    "ReferralEvent",
    "ReferralPartner",
    "ReferralPayout",
    "ReferralProgram",
    "ReferralReward",
    "ReferralRule",
    "ReferralRunDay",
]
