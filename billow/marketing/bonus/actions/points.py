"""The two primitives every bonus action uses: credit points as a new lot, debit points from
the lots oldest first. Both are idempotent by key and keep ``BonusAccount.balance_points``
equal to the sum of the lots' ``remaining`` (moved with ``F()`` in the same transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from billow.core.actors import Actor, resolve_actor
from billow.core.periods import add_months
from billow.marketing.bonus.errors import BonusError, InsufficientBonusPointsError
from billow.marketing.bonus.models import BonusAccount, BonusLot, BonusMovement, BonusProgram


@dataclass(frozen=True, slots=True)
class MovementInfo:
    """What a movement records besides its points: source, description, money, actor."""

    source: str = ""
    description: str = ""
    trigger: str = ""
    rule_id: int | None = None
    base_minor: int = 0
    money_minor: int = 0
    currency: str = ""
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def expiry_date(program: BonusProgram, now: datetime) -> date | None:
    """When points credited at ``now`` expire (None: never)."""
    if not program.expiry_months:
        return None
    return add_months(now.date(), program.expiry_months)


def _movement(
    account_id: int,
    kind: str,
    points: int,
    key: str,
    info: MovementInfo,
    actor: Actor | None,
    now: datetime,
) -> BonusMovement:
    who = resolve_actor(actor)
    return BonusMovement.objects.create(
        account_id=account_id,
        kind=kind,
        points=points,
        key=key,
        trigger=info.trigger,
        rule_id=info.rule_id,
        source=info.source[:200],
        description=info.description[:300],
        base_minor=info.base_minor,
        money_minor=info.money_minor,
        currency=info.currency,
        reason=info.reason,
        details=info.details,
        actor_kind=who.kind.value,
        actor_id=who.id,
        created_at=now,
    )


def credit_points(
    *,
    account_id: int,
    kind: str,
    points: int,
    key: str,
    expires_on: date | None,
    info: MovementInfo = MovementInfo(),
    actor: Actor | None = None,
    now: datetime,
) -> BonusMovement:
    """Credit ``points`` (> 0) as a new lot expiring on ``expires_on``; a key already used
    returns its movement and writes nothing."""
    if type(points) is not int or points <= 0:
        raise BonusError("points must be a positive whole number", code="invalid_points")
    with transaction.atomic():
        try:
            with transaction.atomic():
                move = _movement(account_id, kind, points, key, info, actor, now)
        except IntegrityError:
            existing = BonusMovement.objects.filter(key=key).first()
            if existing is None:
                raise
            return existing
        BonusLot.objects.create(
            account_id=account_id,
            movement=move,
            points=points,
            remaining=points,
            expires_on=expires_on,
            created_at=now,
        )
        BonusAccount.objects.filter(pk=account_id).update(
            balance_points=F("balance_points") + points
        )
    return move


def lock_account(account_id: int) -> BonusAccount:
    """The account row, locked: the one lock of every debit (after the client's wallet)."""
    return BonusAccount.objects.select_for_update().get(pk=account_id)


def debit_points(
    *,
    account_id: int,
    kind: str,
    points: int,
    key: str,
    info: MovementInfo = MovementInfo(),
    partial: bool = False,
    prefer_lot_ids: Iterable[int] = (),
    only_preferred: bool = False,
    actor: Actor | None = None,
    now: datetime,
) -> BonusMovement | None:
    """Take ``points`` from the account's lots: ``prefer_lot_ids`` first, then the oldest
    (earliest expiry, then first credited). More than the balance raises
    ``insufficient_bonus_points`` (nothing written) unless ``partial``, which takes what is
    there (None when nothing is). A key already used returns its movement."""
    if type(points) is not int or points <= 0:
        raise BonusError("points must be a positive whole number", code="invalid_points")
    with transaction.atomic():
        account = lock_account(account_id)
        existing = BonusMovement.objects.filter(key=key).first()
        if existing is not None:
            return existing
        preferred = list(prefer_lot_ids)
        lots = _lots(account_id, preferred, only_preferred)
        available = sum(lot.remaining for lot in lots)
        if points > available:
            if not partial:
                raise InsufficientBonusPointsError(
                    f"{available} points available, {points} asked",
                    available=available,
                    asked=points,
                )
            points = available
        if points <= 0:
            return None
        taken = _take(lots, points)
        details = {**info.details, "lots": [[lot_id, n] for lot_id, n in taken]}
        move = _movement(
            account_id,
            kind,
            -points,
            key,
            MovementInfo(**{**_fields(info), "details": details}),
            actor,
            now,
        )
        moved = BonusAccount.objects.filter(pk=account.pk, balance_points__gte=points).update(
            balance_points=F("balance_points") - points
        )
        if moved != 1:  # the lots and the balance disagree: never spend what is not there
            raise InsufficientBonusPointsError("the balance does not cover the points")
    return move


def _fields(info: MovementInfo) -> dict[str, Any]:
    return {
        "source": info.source,
        "description": info.description,
        "trigger": info.trigger,
        "rule_id": info.rule_id,
        "base_minor": info.base_minor,
        "money_minor": info.money_minor,
        "currency": info.currency,
        "reason": info.reason,
    }


def _lots(account_id: int, preferred: list[int], only_preferred: bool) -> list[BonusLot]:
    qs = BonusLot.objects.select_for_update().filter(account_id=account_id, remaining__gt=0)
    if only_preferred:
        qs = qs.filter(pk__in=preferred)
    lots = list(qs.order_by(F("expires_on").asc(nulls_last=True), "id"))
    rank = {pk: n for n, pk in enumerate(preferred)}
    return sorted(lots, key=lambda lot: rank.get(lot.pk, len(rank)))


def _take(lots: list[BonusLot], points: int) -> list[tuple[int, int]]:
    taken: list[tuple[int, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        n = min(lot.remaining, left)
        BonusLot.objects.filter(Q(pk=lot.pk) & Q(remaining__gte=n)).update(
            remaining=F("remaining") - n
        )
        taken.append((lot.pk, n))
        left -= n
    return taken
