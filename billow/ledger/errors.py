"""Ledger refusals. Codes are stable; callers match on them, never on message text.

Validation codes raised by the ledger (all leave nothing written):

- ``empty_transaction``: no legs, or a leg of zero minor units.
- ``unbalanced_transaction``: the legs of one currency do not sum to zero.
- ``currency_mismatch``: a leg's currency differs from its account's currency.
- ``unknown_currency``: a currency missing from ``billow.core.money.CURRENCY_EXPONENTS``.
- ``amount_out_of_range`` / ``invalid_amount``: not an int, or ``|amount| >= 2**63``.
- ``balance_out_of_range``: a posting would take a cached balance (any account kind, clearing
  included) beyond ``±billow.core.money.balance_limit_minor(currency)``.
- ``unknown_account``: a leg names an account id that does not exist.
- ``invalid_idempotency_key`` / ``invalid_kind``: empty or too long.
"""

from __future__ import annotations

from billow.core.errors import BillowError, ConflictError, NotFoundError, ValidationError


class LedgerValidationError(ValidationError):
    """A posting that breaks a double-entry rule; the ``code`` says which."""

    code = "ledger_validation_error"


class BalanceOutOfRangeError(LedgerValidationError):
    """A posting would take a cached balance beyond its currency's limit
    (``billow.core.money.balance_limit_minor``, far inside the signed 64-bit range)."""

    code = "balance_out_of_range"


class LedgerImmutableError(BillowError):
    """Ledger history is append-only: transactions and entries are never updated or deleted."""

    code = "ledger_immutable"


class IdempotencyKeyReusedError(ConflictError):
    """The idempotency key was already posted with other legs (or another kind)."""

    code = "idempotency_key_reused"


class UnknownAccountError(NotFoundError):
    code = "unknown_account"
