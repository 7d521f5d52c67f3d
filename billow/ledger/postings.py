"""Validation and canonical form of postings, shared by the single and the bulk path.

Pure apart from ``account_currencies`` (one query for account ids given as ints). Everything
here raises before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from django.db import models

from billow.core.money import (
    CURRENCY_EXPONENTS,
    MAX_MINOR,
    Money,
    balance_limit_minor,
    check_amount,
    exponent,
)
from billow.ledger.errors import BalanceOutOfRangeError, LedgerValidationError, UnknownAccountError
from billow.ledger.models import LedgerAccount
from billow.ledger.selectors import known_currencies

MAX_KEY_LENGTH = 200
MAX_KIND_LENGTH = 50
MAX_REF_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Leg:
    """``amount_minor`` moved into (+) or out of (-) ``account``.

    ``currency`` defaults to the account's; when given it must equal it.
    """

    account: LedgerAccount | int
    amount_minor: int
    currency: str | None = None


LegInput = Leg | tuple[LedgerAccount | int, int | Money]
Reference = str | models.Model


@dataclass(frozen=True, slots=True)
class Posting:
    """One transaction to post (the bulk path takes a sequence of these)."""

    kind: str
    legs: Sequence[LegInput]
    idempotency_key: str
    reference: Reference = ""
    memo: str = ""
    actor: object | None = None


@dataclass(slots=True)
class CheckedPosting:
    """A validated posting: canonical legs ``(account_id, currency, amount)`` and their hash."""

    kind: str
    idempotency_key: str
    reference_type: str
    reference_id: str
    memo: str
    actor_kind: str
    actor_id: str
    legs: list[tuple[int, str, int]]
    legs_hash: str
    deltas: dict[int, int] = field(default_factory=dict)


def balance_window(account_id: int, delta: int, currency: str) -> tuple[int, int]:
    """(low, high): where the account's balance must be now for ``balance + delta`` to stay
    within ``±balance_limit_minor(currency)``. Computed here, so the UPDATE that moves the
    balance only compares (``balance BETWEEN low AND high``) and never adds numbers that could
    overflow; a delta wider than the whole range is refused at once (``balance_out_of_range``).
    """
    limit = balance_limit_minor(currency)
    if not -2 * limit <= delta <= 2 * limit:
        raise balance_refused(account_id, currency)
    return -limit - delta, limit - delta


def balance_refused(account_id: int | None, currency: str | None = None) -> BalanceOutOfRangeError:
    """The refusal of a posting that would take a balance beyond its currency's limit."""
    limit = balance_limit_minor(currency) if currency else None
    return BalanceOutOfRangeError(
        "the posting would take a balance beyond the limit of its currency",
        field="balance_minor",
        account_id=account_id,
        currency=currency,
        limit_minor=limit,
    )


def _account_ref(leg: LegInput) -> LedgerAccount | int:
    if isinstance(leg, Leg):
        return leg.account
    if isinstance(leg, tuple) and len(leg) == 2:
        return leg[0]
    raise LedgerValidationError(
        "a leg is (account, amount_minor), (account, Money) or a Leg", code="invalid_leg"
    )


def account_currencies(legs: Iterable[LegInput]) -> dict[int, str]:
    """Account id -> currency for every account the legs name; ``unknown_account`` if missing."""
    known: dict[int, str] = {}
    wanted: set[int] = set()
    for leg in legs:
        ref = _account_ref(leg)
        if isinstance(ref, LedgerAccount):
            if ref.id is None:
                raise UnknownAccountError("the account of a leg is not saved")
            known[ref.id] = ref.currency
        elif isinstance(ref, int) and not isinstance(ref, bool):
            wanted.add(ref)
        else:
            raise LedgerValidationError(
                "a leg's account must be an account or its id", code="invalid_leg"
            )
    wanted.difference_update(known)
    remembered = known_currencies(wanted)  # committed accounts never change currency
    known.update(remembered)
    wanted.difference_update(remembered)
    if wanted:
        found = dict(LedgerAccount.objects.filter(pk__in=wanted).values_list("id", "currency"))
        missing = wanted.difference(found)
        if missing:
            raise UnknownAccountError(
                f"unknown ledger accounts {sorted(missing)}", account_ids=sorted(missing)
            )
        known.update(found)
    for currency in set(known.values()):
        exponent(currency)  # an account row with a currency outside the table: unknown_currency
    return known


def _bad_amount(amount: object) -> NoReturn:
    check_amount(amount)  # type: ignore[arg-type]  # raises the precise code
    raise AssertionError("unreachable")  # pragma: no cover


def _leg_parts(leg: LegInput, currencies: dict[int, str]) -> tuple[int, str, int]:
    """(account_id, currency, amount) of one leg, every rule but the zero sum checked."""
    given: str | None = None
    raw: object
    if isinstance(leg, Leg):
        ref, raw, given = leg.account, leg.amount_minor, leg.currency
    else:
        ref, raw = leg  # account_currencies has refused every other shape (invalid_leg)
        if isinstance(raw, Money):
            given = raw.currency
            raw = raw.amount_minor
    account_id: int = ref if type(ref) is int else ref.id  # type: ignore[union-attr]
    currency = currencies[account_id]  # known currencies only (see account_currencies)
    if given is not None and given != currency:
        if given not in CURRENCY_EXPONENTS:
            exponent(given)
        raise LedgerValidationError(
            f"leg in {given} on an account in {currency}",
            code="currency_mismatch",
            account_id=account_id,
        )
    if type(raw) is not int or not -MAX_MINOR <= raw <= MAX_MINOR:
        _bad_amount(raw)
    amount: int = raw
    if amount == 0:
        raise LedgerValidationError("a leg of zero moves nothing", code="empty_transaction")
    return account_id, currency, amount


def legs_fingerprint(kind: str, legs: Iterable[tuple[int, str, int]]) -> str:
    """SHA-256 over the kind and the sorted legs: equal for the same multiset of legs.

    The canonical text is ``kind|[(account_id, 'CUR', amount), ...]`` (Python's repr of ints and
    ASCII strings, stable across versions).
    """
    return hashlib.sha256(f"{kind}|{sorted(legs)!r}".encode()).hexdigest()


def split_reference(reference: Reference) -> tuple[str, str]:
    """``"invoice:42"`` or a model instance -> (type, id)."""
    if type(reference) is not str and isinstance(reference, models.Model):
        ref_type, ref_id = reference._meta.label_lower, str(reference.pk)
    else:
        head, sep, tail = str(reference).partition(":")
        ref_type, ref_id = (head, tail) if sep else ("", head)
    if len(ref_type) > MAX_REF_LENGTH or len(ref_id) > MAX_REF_LENGTH:
        raise LedgerValidationError("reference is too long", code="invalid_reference")
    return ref_type, ref_id


def actor_fields(actor: object | None) -> tuple[str, str]:
    """(kind, id) of who posted: a staff/user model, an object with kind/id, or a label."""
    if actor is None:
        return "system", ""
    if isinstance(actor, str):
        return "system", actor[:MAX_REF_LENGTH]
    if isinstance(actor, models.Model):
        kind = "staff" if getattr(actor, "is_staff", False) else actor._meta.model_name
        return str(kind)[:20], str(actor.pk)
    kind = getattr(actor, "kind", None)
    ident = getattr(actor, "id", None)
    if kind is None:
        return "system", str(actor)[:MAX_REF_LENGTH]
    return str(kind)[:20], "" if ident is None else str(ident)[:MAX_REF_LENGTH]


def _check_text(kind: str, key: str) -> None:
    if type(kind) is not str or not 0 < len(kind) <= MAX_KIND_LENGTH:
        raise LedgerValidationError("kind must be 1-50 characters", code="invalid_kind")
    if type(key) is not str or not 0 < len(key) <= MAX_KEY_LENGTH:
        raise LedgerValidationError(
            "idempotency_key must be 1-200 characters", code="invalid_idempotency_key"
        )


def check_posting(posting: Posting, currencies: dict[int, str]) -> CheckedPosting:
    """Validate one posting; raise a ``BillowError`` with a stable code on the first rule broken."""
    kind = str(posting.kind)  # a TextChoices member becomes its plain value
    _check_text(kind, posting.idempotency_key)
    if not posting.legs:
        raise LedgerValidationError("a transaction needs legs", code="empty_transaction")
    legs: list[tuple[int, str, int]] = []
    sums: dict[str, int] = {}
    deltas: dict[int, int] = {}
    for leg in posting.legs:
        account_id, currency, amount = parts = _leg_parts(leg, currencies)
        legs.append(parts)
        sums[currency] = sums.get(currency, 0) + amount
        deltas[account_id] = deltas.get(account_id, 0) + amount
    if any(sums.values()):
        unbalanced = {c: s for c, s in sums.items() if s}
        raise LedgerValidationError(
            f"legs do not sum to zero: {unbalanced}",
            code="unbalanced_transaction",
            sums=unbalanced,
        )
    ref_type, ref_id = split_reference(posting.reference)
    actor_kind, actor_id = actor_fields(posting.actor)
    return CheckedPosting(
        kind,
        posting.idempotency_key,
        ref_type,
        ref_id,
        posting.memo,
        actor_kind,
        actor_id,
        legs,
        legs_fingerprint(kind, legs),
        deltas,
    )
