"""The expiry job: what is left of each lot past its expiry date expires (keyed by the lot)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from billow.core import clock
from billow.core.actors import Actor
from billow.marketing.bonus.actions.points import MovementInfo, debit_points
from billow.marketing.bonus.models import BonusLot, MovementKind


def expire_bonus_points(*, actor: Actor | None = None, now: datetime | None = None) -> int:
    """Expire every lot whose ``expires_on`` is today or earlier and has points left; each
    lot in its own transaction, keyed ``bonus:expiry:<lot>``. Returns the points expired."""
    moment = clock.now(now)
    due = list(
        BonusLot.objects.filter(remaining__gt=0, expires_on__lte=moment.date())
        .order_by("expires_on", "id")
        .values_list("pk", "account_id", "remaining", "expires_on")
    )
    expired = 0
    for lot_id, account_id, remaining, expires_on in due:
        with transaction.atomic():
            move = debit_points(
                account_id=account_id,
                kind=MovementKind.EXPIRY,
                points=remaining,
                key=f"bonus:expiry:{lot_id}",
                info=MovementInfo(
                    source=f"lot:{lot_id}",
                    description=_("Expired on %(day)s") % {"day": str(expires_on)},
                    details={"expires_on": str(expires_on)},
                ),
                partial=True,
                prefer_lot_ids=[lot_id],
                only_preferred=True,
                actor=actor,
                now=moment,
            )
        if move is not None:
            expired -= move.points
    return expired
