"""Marketing admin: each part registers its own models."""

from billow.marketing import promo_admin  # noqa: F401
