"""Bonus program writes (one module per use case; the package re-exports the public actions)."""

from billow.marketing.bonus.actions.accounts import (
    enable_bonus_program,
    ensure_bonus_account,
    give_bonus_consent,
    grant_welcome_bonus,
    set_bonus_account_status,
)
from billow.marketing.bonus.actions.charges import (
    ChargeEvent,
    accrue_for_charges,
    return_points,
    reverse_bonus_for_refund,
)
from billow.marketing.bonus.actions.expiry import expire_bonus_points
from billow.marketing.bonus.actions.manual import (
    adjust_bonus_points,
    apply_manual_rules,
    manual_event,
)
from billow.marketing.bonus.actions.redemption import (
    record_redemption_charges,
    redeem_points,
    redemption_key,
    return_redeemed_points,
)
from billow.marketing.bonus.actions.rules import create_bonus_rule

__all__ = [
    "ChargeEvent",
    "accrue_for_charges",
    "adjust_bonus_points",
    "apply_manual_rules",
    "create_bonus_rule",
    "enable_bonus_program",
    "ensure_bonus_account",
    "expire_bonus_points",
    "give_bonus_consent",
    "grant_welcome_bonus",
    "manual_event",
    "record_redemption_charges",
    "redeem_points",
    "redemption_key",
    "return_points",
    "return_redeemed_points",
    "reverse_bonus_for_refund",
    "set_bonus_account_status",
]
