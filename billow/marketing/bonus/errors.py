"""Bonus program refusals. Codes are stable; callers match on them.

- ``bonus_program_not_found``: the provider has no enabled bonus program.
- ``bonus_consent_required``: the program needs the client's consent first.
- ``bonus_account_off``: the client's bonus account is turned off.
- ``insufficient_bonus_points``: fewer points than asked for (nothing spent).
- ``bonus_points_not_accepted``: points cannot pay in this currency / for this order.
- ``invalid_points``, ``invalid_direction``, ``reason_required``: bad staff input.
"""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class BonusError(ValidationError):
    code = "bonus_error"


class BonusProgramNotFoundError(NotFoundError):
    code = "bonus_program_not_found"


class InsufficientBonusPointsError(ConflictError):
    code = "insufficient_bonus_points"
