"""Marketing admin: each part registers its own models."""

from billow.marketing.bonus import admin as bonus_admin  # noqa: F401
from billow.marketing.promos import admin as promo_admin  # noqa: F401
from billow.marketing.referrals import admin as referral_admin  # noqa: F401
