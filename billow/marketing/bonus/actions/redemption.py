"""Paying with points: the checkout redeems them (the points leave the lots oldest first and
their money goes from the provider's bonus expense to the client balance, which then pays the
order as usual); the settlement splits the redemption over the order's charges; a cancelled
order gets its points back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_FLOOR

from django.db import transaction
from django.utils.translation import gettext as _

from billow.core import clock
from billow.core.actors import Actor
from billow.core.money import allocate
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.selectors import get_or_create_account
from billow.marketing.bonus import selectors
from billow.marketing.bonus.actions.charges import return_points
from billow.marketing.bonus.actions.points import MovementInfo, debit_points
from billow.marketing.bonus.errors import BonusError, BonusProgramNotFoundError
from billow.marketing.bonus.models import (
    BonusAccountStatus,
    BonusMovement,
    BonusRedemptionShare,
    MovementKind,
)


def redemption_key(reference: str) -> str:
    return f"bonus:redeem:{reference}"


def redeem_points(
    *,
    client_id: int,
    provider_id: int,
    currency: str,
    points: int,
    amount_minor: int,
    wallet_account_id: int,
    reference: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> BonusMovement:
    """Spend ``points`` worth ``amount_minor`` for ``reference`` (an order) inside the
    caller's transaction, which has locked the client's wallet. The account row is locked and
    its lots are spent oldest first; more than the balance raises
    ``insufficient_bonus_points`` and nothing is written, so concurrent checkouts never spend
    more points than the account holds. ``amount_minor`` must be what the points are worth
    now (``bonus_points_not_accepted`` otherwise: the quote is stale)."""
    moment = clock.now(now)
    program = selectors.get_enabled_program(provider_id)
    if program is None or not selectors.is_running(program, moment.date()):
        raise BonusProgramNotFoundError("the provider has no running bonus program")
    account = selectors.get_account(provider_id, client_id)
    if account is None or account.status != BonusAccountStatus.ACTIVE:
        raise BonusError("the bonus account is turned off", code="bonus_account_off")
    if not selectors.has_consent(program, account):
        raise BonusError("consent to the program first", code="bonus_consent_required")
    value = selectors.point_value(program, currency)
    worth = (
        int((points * value).to_integral_value(rounding=ROUND_FLOOR)) if value is not None else 0
    )
    if points <= 0 or amount_minor <= 0 or worth != amount_minor:
        raise BonusError("these points cannot pay this amount", code="bonus_points_not_accepted")
    key = redemption_key(reference)
    with transaction.atomic():
        move = debit_points(
            account_id=account.pk,
            kind=MovementKind.REDEMPTION,
            points=points,
            key=key,
            info=MovementInfo(
                source=reference,
                description=_("Paid with points: %(ref)s") % {"ref": reference},
                money_minor=amount_minor,
                currency=currency,
            ),
            actor=actor,
            now=moment,
        )
        assert move is not None
        expense = get_or_create_account(
            kind=AccountKind.BONUS_EXPENSE, currency=currency, provider=account.provider
        )
        post_transaction(
            kind=TransactionKind.BONUS_REDEMPTION,
            legs=[(expense, -amount_minor), (wallet_account_id, amount_minor)],
            idempotency_key=key,
            reference=reference,
            memo="paid with bonus points",
            actor=actor,
        )
    return move


def record_redemption_charges(*, reference: str, charges: Sequence[tuple[str, int]]) -> None:
    """Split the redemption of ``reference`` over its charges ((key, amount)) by amount, so a
    refund of one charge returns its share. No-op (one query) without a redemption."""
    move = BonusMovement.objects.filter(key=redemption_key(reference)).first()
    if move is None or not charges:
        return
    amounts = [max(0, amount) for _, amount in charges]
    if not sum(amounts):
        amounts = [1] * len(charges)
    points = allocate(-move.points, amounts)
    money = allocate(move.money_minor, amounts)
    BonusRedemptionShare.objects.bulk_create(
        [
            BonusRedemptionShare(
                movement=move, charge_key=key, charged_minor=amount, points=p, money_minor=m
            )
            for (key, amount), p, m in zip(charges, points, money, strict=True)
            if p or m
        ],
        ignore_conflicts=True,
    )


def return_redeemed_points(
    *,
    reference: str,
    wallet_account_id: int,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> BonusMovement | None:
    """An order cancelled before it was settled: all its points come back and their money
    leaves the balance again (keyed, so a replay returns nothing twice)."""
    move = BonusMovement.objects.filter(key=redemption_key(reference)).first()
    if move is None:
        return None
    return return_points(
        redemption=move,
        points=-move.points,
        money_minor=move.money_minor,
        key=f"bonus:return:{reference}",
        source=reference,
        wallet_account_id=wallet_account_id,
        actor=actor,
        now=clock.now(now),
    )
