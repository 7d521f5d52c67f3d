"""Staff: a client's points accrued or deducted by hand (reason and actor recorded, keyed by
the form's nonce), and the rules with the manual trigger applied to an amount."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from billow.core import clock
from billow.core.actors import Actor
from billow.marketing.bonus import selectors
from billow.marketing.bonus.actions.charges import ChargeEvent, accrue_for_charges
from billow.marketing.bonus.actions.points import (
    MovementInfo,
    credit_points,
    debit_points,
    expiry_date,
)
from billow.marketing.bonus.errors import BonusError, BonusProgramNotFoundError
from billow.marketing.bonus.models import BonusAccount, BonusMovement, MovementKind
from billow.marketing.bonus.rules import Trigger, manual_line


def adjust_bonus_points(
    *,
    account: BonusAccount,
    direction: str,
    points: int,
    reason: str,
    nonce: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> BonusMovement:
    """Accrue (a new lot, the program's expiry) or deduct (oldest lots first, never below
    zero: ``insufficient_bonus_points``) ``points`` with a ``reason``; keyed
    ``bonus:manual:<nonce>`` so a form submitted twice changes the account once."""
    if direction not in ("accrual", "deduction"):
        raise BonusError("direction is accrual or deduction", code="invalid_direction")
    if type(points) is not int or points <= 0:
        raise BonusError("points must be a positive whole number", code="invalid_points")
    if not reason.strip():
        raise BonusError("a reason is required", code="reason_required")
    if not nonce:
        raise BonusError("a form nonce is required", code="invalid_idempotency_key")
    moment = clock.now(now)
    program = selectors.get_program(account.provider_id)
    if program is None:
        raise BonusProgramNotFoundError("the provider has no bonus program")
    info = MovementInfo(source="staff", description=reason.strip()[:300], reason=reason.strip())
    key = f"bonus:manual:{nonce}"
    if direction == "accrual":
        return credit_points(
            account_id=account.pk,
            kind=MovementKind.MANUAL_ACCRUAL,
            points=points,
            key=key,
            expires_on=expiry_date(program, moment),
            info=info,
            actor=actor,
            now=moment,
        )
    move = debit_points(
        account_id=account.pk,
        kind=MovementKind.MANUAL_DEDUCTION,
        points=points,
        key=key,
        info=info,
        actor=actor,
        now=moment,
    )
    assert move is not None
    return move


def manual_event(
    account: BonusAccount, amount_minor: int, currency: str, nonce: str
) -> ChargeEvent:
    """The charge data the manual-trigger rules see: one line of ``amount_minor``."""
    return ChargeEvent(
        client_id=account.client_id,
        provider_id=account.provider_id,
        currency=currency,
        trigger=Trigger.MANUAL,
        lines=(manual_line(nonce, amount_minor),),
        source=f"manual:{nonce}",
        description=_("Manual accrual by the rules"),
    )


def apply_manual_rules(
    *,
    account: BonusAccount,
    amount_minor: int,
    currency: str,
    nonce: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> list[BonusMovement]:
    """Run the rules with the manual trigger on ``amount_minor`` for this client (staff)."""
    if not nonce:
        raise BonusError("a form nonce is required", code="invalid_idempotency_key")
    return accrue_for_charges(
        events=[manual_event(account, amount_minor, currency, nonce)], actor=actor, now=now
    )
