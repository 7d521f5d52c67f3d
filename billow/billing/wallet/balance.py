"""A client's balance with one provider in one currency, as the billing decisions see it.

Pure data: the plan (``billing.plan``), auto-payment and checkout decide on it; the functions
that read, lock and move it are in ``billow.billing.wallet.locks`` and ``.money``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

WalletKey = tuple[int, int, str]  # (client_id, provider_id, currency)


@dataclass(frozen=True, slots=True)
class ItemTax:
    """The tax of one movement: ``tax_minor`` in all, ``tax_added_minor`` of it on top of the
    amount (the rest is included in it), at ``rate`` percent; ``reverse_charge``: none charged,
    the buyer accounts for it (EU B2B)."""

    tax_minor: int = 0
    tax_added_minor: int = 0
    rate: Decimal = Decimal(0)
    reverse_charge: bool = False

    @property
    def included_minor(self) -> int:
        return self.tax_minor - self.tax_added_minor


NO_TAX = ItemTax()


@dataclass(slots=True)
class Wallet:
    """A client balance and how far it may go negative: ``credit_limit_minor`` below zero, or
    without a limit when ``postpaid``. ``account_id`` is None while the client has no balance
    account in that currency yet (the first charge creates it). ``blocked``: the credit terms
    block the client (``billing.credit``): the run renews nothing and suspends the services."""

    account_id: int | None
    balance_minor: int
    credit_limit_minor: int = 0
    postpaid: bool = False
    blocked: bool = False

    def can_pay(self, amount_minor: int) -> bool:
        return self.postpaid or self.balance_minor + self.credit_limit_minor >= amount_minor

    @property
    def account(self) -> int:
        """The balance account's id; a wallet from ``lock_wallet`` always has one."""
        if self.account_id is None:
            raise LookupError("this wallet has no balance account yet")
        return self.account_id

    @property
    def available_minor(self) -> int:
        """Balance plus credit limit (may be negative after a post-paid or credit charge)."""
        return self.balance_minor + self.credit_limit_minor


def charge_key(service_id: int, period_from: date) -> str:
    """The one key of a period charge: the expense's and its ledger transaction's."""
    return f"charge:{service_id}:{period_from.isoformat()}"


def hour_charge_key(service_id: int, hour_start: datetime) -> str:
    """The one key of an hourly service's charge for the hour starting at ``hour_start`` (UTC):
    one charge per service-hour, whatever reruns."""
    return f"hour:{service_id}:{hour_start.strftime('%Y-%m-%dT%H')}"
