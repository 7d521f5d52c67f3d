"""Credit terms as pure functions (reference §1.14, BILLmanager's "overdue accounts receivable").

A client's unpaid invoices that carry a due date (the monthly invoice of post-paid charges, the
monthly invoice of a credit-limit debt) decide one of four overdue states:

- ``none``: no unpaid invoice is past its due date ("no overdue payments");
- ``in_respite``: one is, and the respite is not over: it lasts ``respite_days`` after the due
  date of the oldest overdue invoice, or never ends when ``respite_unlimited``;
- ``respite_over``: the respite is over, but the block date is not reached;
- ``blocked``: the respite is over and ``block_days`` have passed since the oldest unpaid
  invoice was issued (block date = its issue day + ``block_days``). Empty ``block_days``: never.

A blocked client's services are suspended by the billing run (post-paid clients are never
blocked). An invoice is settled when the balance covers everything charged up to its cutoff:
``balance + (what the expenses moved since the cutoff) >= 0`` (payments pay the oldest charges
first), so a payment settles the oldest invoices first and the newest charges stay owed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class OverdueState(models.TextChoices):
    NONE = "none", _("No overdue payments")
    IN_RESPITE = "in_respite", _("Overdue payments, respite not over")
    RESPITE_OVER = "respite_over", _("Respite over, not blocked")
    BLOCKED = "blocked", _("Blocked")


@dataclass(frozen=True, slots=True)
class CreditTerms:
    respite_unlimited: bool = False
    respite_days: int = 0
    block_days: int | None = None
    postpaid: bool = False


@dataclass(frozen=True, slots=True)
class UnpaidInvoice:
    """An issued, unpaid invoice with a due date (the last day to pay)."""

    invoice_id: int
    issued_on: date
    due_on: date


@dataclass(frozen=True, slots=True)
class Overdue:
    """The state and the dates it was decided on (None where they do not apply)."""

    state: OverdueState
    respite_ends_on: date | None = None  # the last day of the respite
    blocks_on: date | None = None  # the first day blocked

    @property
    def blocked(self) -> bool:
        return self.state == OverdueState.BLOCKED


def overdue_state(terms: CreditTerms, unpaid: Iterable[UnpaidInvoice], day: date) -> Overdue:
    """The overdue state on ``day`` (see the module docstring)."""
    invoices = list(unpaid)
    overdue = [i for i in invoices if i.due_on < day]
    if not overdue:
        return Overdue(OverdueState.NONE)
    if terms.respite_unlimited:
        return Overdue(OverdueState.IN_RESPITE)
    respite_ends_on = min(i.due_on for i in overdue) + timedelta(days=terms.respite_days)
    blocks_on = None
    if terms.block_days is not None and not terms.postpaid:
        oldest = min(i.issued_on for i in invoices)
        blocks_on = max(oldest + timedelta(days=terms.block_days), respite_ends_on + timedelta(1))
    if day <= respite_ends_on:
        return Overdue(OverdueState.IN_RESPITE, respite_ends_on, blocks_on)
    if blocks_on is None or day < blocks_on:
        return Overdue(OverdueState.RESPITE_OVER, respite_ends_on, blocks_on)
    return Overdue(OverdueState.BLOCKED, respite_ends_on, blocks_on)


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An unpaid invoice of one wallet with what the wallet's expenses moved since its cutoff
    (charges minus refunds and credits, created at or after the cutoff)."""

    invoice_id: int
    moved_since_minor: int


def settled_invoices(balance_minor: int, invoices: Sequence[OpenInvoice]) -> list[int]:
    """The invoices the balance now covers: those whose charges up to their cutoff are paid."""
    return [i.invoice_id for i in invoices if balance_minor + i.moved_since_minor >= 0]


def promise_lapsed(promised_until: date | None, day: date, available_minor: int) -> bool:
    """A promised payment whose day has come while the balance is still below the credit
    limit (without the promise): the run suspends the services again, as before the promise."""
    return promised_until is not None and promised_until <= day and available_minor < 0
