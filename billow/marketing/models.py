"""Marketing models. The promo part lives in ``promos.models``; bonus and referral add theirs."""

# -- bonus program (issue 16) --
from billow.marketing.bonus.models import (
    BonusAccount,
    BonusConsent,
    BonusLot,
    BonusMovement,
    BonusPointValue,
    BonusProgram,
    BonusRedemptionShare,
    BonusRule,
    BonusTariffGroup,
)
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
    "BonusAccount",
    "BonusConsent",
    "BonusLot",
    "BonusMovement",
    "BonusPointValue",
    "BonusProgram",
    "BonusRedemptionShare",
    "BonusRule",
    "BonusTariffGroup",
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
