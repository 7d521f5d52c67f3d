"""Points for charges: accrual (and deduction rules) on what was charged, and the reversal of
both sides of a refunded charge (accrued points in proportion, redeemed points returned).

Callers pass plain ``ChargeEvent`` data (the marketing layer reads no orders, billing or
payments): the checkout's settlement (first / repeat purchase, line keys = the charges'
keys), the renewal job (``billing.bonus``), the top-up hook (``payments``), staff (manual).
Every movement is keyed by the charged line and the rule, so a replay accrues nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from django.db import transaction
from django.utils.translation import gettext as _

from billow.core import clock
from billow.core.actors import Actor
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.selectors import get_or_create_account
from billow.marketing.bonus import selectors
from billow.marketing.bonus.actions.accounts import ensure_bonus_account
from billow.marketing.bonus.actions.points import (
    MovementInfo,
    credit_points,
    debit_points,
    expiry_date,
)
from billow.marketing.bonus.models import (
    BonusLot,
    BonusMovement,
    BonusProgram,
    BonusRedemptionShare,
    MovementKind,
)
from billow.marketing.bonus.rules import (
    ChargeFacts,
    ChargeLine,
    Direction,
    RuleOutcome,
    Trigger,
    points_for_charge,
)


@dataclass(frozen=True, slots=True)
class ChargeEvent:
    """Something charged (or paid, for a top-up) that rules may reward: its lines are net of
    tax; ``source`` is shown in the history (``order:12``, ``payment:5``)."""

    client_id: int
    provider_id: int
    currency: str
    trigger: Trigger
    lines: tuple[ChargeLine, ...]
    source: str
    description: str = ""
    purchase_number: int = 0


def accrue_for_charges(
    *, events: Sequence[ChargeEvent], actor: Actor | None = None, now: datetime | None = None
) -> list[BonusMovement]:
    """Apply the rules to each event and credit (or, for deduction rules, take) the points, one
    movement per rule and charged line (keyed ``bonus:<trigger>:<line>:r<rule>``). Nothing for
    a provider without a running program, an account turned off or without consent."""
    moment = clock.now(now)
    programs: dict[int, BonusProgram | None] = {}
    groups = selectors.client_group_ids({e.client_id for e in events})
    out: list[BonusMovement] = []
    with transaction.atomic():
        for event in events:
            if event.provider_id not in programs:
                programs[event.provider_id] = selectors.get_enabled_program(event.provider_id)
            program = programs[event.provider_id]
            if program is None or not selectors.is_running(program, moment.date()):
                continue
            out.extend(
                _accrue(program, event, groups.get(event.client_id, frozenset()), actor, moment)
            )
    return out


def _accrue(
    program: BonusProgram,
    event: ChargeEvent,
    group_ids: frozenset[int],
    actor: Actor | None,
    now: datetime,
) -> list[BonusMovement]:
    account = ensure_bonus_account(
        client_id=event.client_id, provider_id=event.provider_id, actor=actor, now=now
    )
    if account is None or not selectors.may_earn(program, account, now.date()):
        return []
    facts = ChargeFacts(
        event.trigger,
        event.currency,
        event.lines,
        now.date(),
        group_ids,
        event.purchase_number,
        selectors.point_value(program, event.currency),
    )
    outcomes = points_for_charge(selectors.list_rule_infos(program, event.trigger), facts)
    nets = {ln.key: ln.net_minor for ln in event.lines}
    out: list[BonusMovement] = []
    for outcome in outcomes:
        for line_key, points in outcome.per_line.items():
            move = _apply_line(
                program, account.pk, event, outcome, line_key, points, nets, actor, now
            )
            if move is not None:
                out.append(move)
    return out


def _apply_line(
    program: BonusProgram,
    account_id: int,
    event: ChargeEvent,
    outcome: RuleOutcome,
    line_key: str,
    points: int,
    nets: dict[str, int],
    actor: Actor | None,
    now: datetime,
) -> BonusMovement | None:
    info = MovementInfo(
        source=line_key,
        description=event.description or event.source,
        trigger=event.trigger.value,
        rule_id=outcome.rule_id,
        base_minor=nets.get(line_key, 0),
        currency=event.currency,
        details={"event": event.source},
    )
    key = f"bonus:{event.trigger.value}:{line_key}:r{outcome.rule_id}"
    if outcome.direction == Direction.ACCRUAL:
        return credit_points(
            account_id=account_id,
            kind=MovementKind.ACCRUAL,
            points=points,
            key=key,
            expires_on=expiry_date(program, now),
            info=info,
            actor=actor,
            now=now,
        )
    return debit_points(
        account_id=account_id,
        kind=MovementKind.DEDUCTION,
        points=points,
        key=key,
        info=info,
        partial=True,
        actor=actor,
        now=now,
    )


def reverse_bonus_for_refund(
    *,
    client_id: int,
    provider_id: int,
    currency: str,
    charges: Sequence[tuple[str, int]],
    refunded_minor: int,
    refund_key: str,
    wallet_account_id: int,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> list[BonusMovement]:
    """A refund of ``refunded_minor`` out of ``charges`` ((charge key, amount charged)):
    the points accrued on those charges are taken back in proportion (never more than the
    account holds: what was already spent stays spent), and the points that paid for them come
    back in proportion, their money taken back from the client balance (``wallet_account_id``)
    to bonus expense. Keyed by ``refund_key``: a replay changes nothing. One cheap query when
    nothing was accrued or redeemed on the charges."""
    charged = sum(amount for _, amount in charges)
    if charged <= 0 or refunded_minor <= 0:
        return []
    share = min(Fraction(refunded_minor, charged), Fraction(1))
    keys = [k for k, _ in charges]
    moment = clock.now(now)
    out: list[BonusMovement] = []
    with transaction.atomic():
        for accrual in BonusMovement.objects.filter(
            source__in=keys, kind=MovementKind.ACCRUAL
        ).select_related("lot"):
            back = int(accrual.points * share)
            if back <= 0:
                continue
            move = debit_points(
                account_id=accrual.account_id,
                kind=MovementKind.REVERSAL,
                points=back,
                key=f"bonus:reversal:{refund_key}:{accrual.pk}",
                info=MovementInfo(
                    source=refund_key,
                    description=_("Refund of %(charge)s") % {"charge": accrual.source},
                    currency=currency,
                ),
                partial=True,
                prefer_lot_ids=[accrual.lot.pk],
                actor=actor,
                now=moment,
            )
            if move is not None:
                out.append(move)
        for part in BonusRedemptionShare.objects.filter(charge_key__in=keys).select_related(
            "movement"
        ):
            move = _return_share(part, share, refund_key, wallet_account_id, actor, moment)
            if move is not None:
                out.append(move)
    return out


def _return_share(
    part: BonusRedemptionShare,
    share: Fraction,
    refund_key: str,
    wallet_account_id: int,
    actor: Actor | None,
    now: datetime,
) -> BonusMovement | None:
    points = int(part.points * share)
    if points <= 0:
        return None
    money = int(
        (Decimal(part.money_minor) * points / part.points).to_integral_value(rounding=ROUND_FLOOR)
    )
    return return_points(
        redemption=part.movement,
        points=points,
        money_minor=money,
        key=f"bonus:return:{refund_key}:{part.pk}",
        source=refund_key,
        wallet_account_id=wallet_account_id,
        actor=actor,
        now=now,
    )


def return_points(
    *,
    redemption: BonusMovement,
    points: int,
    money_minor: int,
    key: str,
    source: str,
    wallet_account_id: int,
    actor: Actor | None,
    now: datetime,
) -> BonusMovement:
    """Give back ``points`` of a redemption as a lot that expires when the latest lot they were
    spent from did, and take their ``money_minor`` back from the client balance (ledger
    ``bonus_redemption`` reversed, same key)."""
    lot_ids = [lot_id for lot_id, _ in redemption.details.get("lots", [])]
    dates = list(BonusLot.objects.filter(pk__in=lot_ids).values_list("expires_on", flat=True))
    known = [d for d in dates if d is not None]
    expires = max(known) if dates and len(known) == len(dates) else None
    move = credit_points(
        account_id=redemption.account_id,
        kind=MovementKind.RETURN,
        points=points,
        key=key,
        expires_on=expires,
        info=MovementInfo(
            source=source,
            description=_("Points returned for %(source)s") % {"source": redemption.source},
            money_minor=money_minor,
            currency=redemption.currency,
        ),
        actor=actor,
        now=now,
    )
    if money_minor > 0:
        expense = get_or_create_account(
            kind=AccountKind.BONUS_EXPENSE,
            currency=redemption.currency,
            provider=redemption.account.provider,
        )
        post_transaction(
            kind=TransactionKind.BONUS_REDEMPTION,
            legs=[(wallet_account_id, -money_minor), (expense, money_minor)],
            idempotency_key=key,
            reference=source,
            memo="bonus points returned",
            actor=actor,
        )
    return move
