"""Moving money between a client's wallet and the provider's revenue for a service.

Every movement is an ``Expense`` row (what the client sees: a charge, a refund, a credit for a
service and a span of days) and a ledger transaction under the same unique key, so a replay
posts nothing twice. Set-based: the billing run writes thousands in one call; a checkout or a
tariff change writes one. Runs inside the caller's transaction, after it locked the wallets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from billow.billing import sql
from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.billing.wallet.balance import WalletKey, charge_key, hour_charge_key
from billow.core import rows as db_rows
from billow.ledger.actions import post_transactions_bulk
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_account_id


@dataclass(frozen=True, slots=True)
class MoneyItem:
    """One expense to write and post. Charges move ``amount_minor`` from the client balance to
    provider revenue; refunds and credits move it back."""

    service_id: int
    wallet_key: WalletKey
    kind: str
    reason: str
    key: str
    period_from: date
    period_to: date
    amount_minor: int
    description: str = ""

    @classmethod
    def period_charge(
        cls,
        *,
        service_id: int,
        wallet_key: WalletKey,
        period_from: date,
        period_to: date,
        amount_minor: int,
        description: str = "",
    ) -> MoneyItem:
        """The charge of a service's period ``[period_from, period_to)``, under the one key a
        period is charged with (checkout, renewals and the billing run share it)."""
        return cls(
            service_id,
            wallet_key,
            ExpenseKind.CHARGE,
            ExpenseReason.PERIOD,
            charge_key(service_id, period_from),
            period_from,
            period_to,
            amount_minor,
            description,
        )

    @classmethod
    def hour_charge(
        cls,
        *,
        service_id: int,
        wallet_key: WalletKey,
        hour_start: datetime,
        amount_minor: int,
        description: str = "",
    ) -> MoneyItem:
        """The charge of an hourly service for the hour starting at ``hour_start`` (UTC), keyed
        per service-hour. An expense spans whole days, so it records the day the hour falls in
        (``[day, day + 1)``); the key and the description name the hour."""
        start = hour_start.astimezone(UTC)
        day = start.date()
        hour = f"{start:%Y-%m-%d %H}:00-{start + timedelta(hours=1):%H}:00 UTC"
        return cls(
            service_id,
            wallet_key,
            ExpenseKind.CHARGE,
            ExpenseReason.HOUR,
            hour_charge_key(service_id, start),
            day,
            day + timedelta(days=1),
            amount_minor,
            f"{description}, {hour}" if description else hour,
        )


def revenue_account(provider_id: int, currency: str) -> int:
    """The provider's revenue account id in ``currency`` (created on first use)."""
    return get_account_id(
        kind=AccountKind.PROVIDER_REVENUE, currency=currency, provider_id=provider_id
    )


def write_money(
    items: Sequence[MoneyItem],
    wallets: dict[WalletKey, int],
    *,
    now: datetime,
    actor: Any,
    fast: bool = False,
) -> list[Expense]:
    """Post the non-zero items to the ledger (keyed by ``item.key``) between the wallet account
    (``wallets[item.wallet_key]``) and revenue, and insert their expenses (returned, unless
    ``fast``: the billing run's bulk insert, which returns nothing)."""
    revenue = {(item.wallet_key[1], item.wallet_key[2]): 0 for item in items if item.amount_minor}
    for provider_id, currency in revenue:
        revenue[(provider_id, currency)] = revenue_account(provider_id, currency)
    postings = [_posting(item, wallets, revenue, actor) for item in items if item.amount_minor]
    txn_ids = iter(post_transactions_bulk(postings, now=now).transaction_ids if postings else [])
    rows = [
        (
            item.service_id,
            item.wallet_key[0],
            item.wallet_key[1],
            item.kind,
            item.reason,
            item.key,
            item.period_from,
            item.period_to,
            item.amount_minor,
            item.wallet_key[2],
            next(txn_ids) if item.amount_minor else None,
            item.description,
            now,
        )
        for item in items
    ]
    if fast:
        sql.insert_expense_rows(rows)
        return []
    expenses = [Expense(**dict(zip(sql.EXPENSE_ATTRS, row, strict=True))) for row in rows]
    return db_rows.insert(expenses)  # the ORM's bulk_create build costs more than the INSERT


def move_money(item: MoneyItem, account_id: int, *, now: datetime, actor: Any) -> Expense:
    """One movement for a wallet the caller locked (``account_id``): ``write_money`` of one."""
    return write_money([item], {item.wallet_key: account_id}, now=now, actor=actor)[0]


def _posting(
    item: MoneyItem,
    wallets: dict[WalletKey, int],
    revenue: dict[tuple[int, str], int],
    actor: Any,
) -> Posting:
    wallet = wallets[item.wallet_key]
    income = revenue[(item.wallet_key[1], item.wallet_key[2])]
    amount = item.amount_minor if item.kind == ExpenseKind.CHARGE else -item.amount_minor
    return Posting(
        kind=TransactionKind.CHARGE if amount > 0 else TransactionKind.CHARGE_REVERSAL,
        legs=[(wallet, -amount), (income, amount)],
        idempotency_key=item.key,
        reference=f"services.service:{item.service_id}",
        memo=item.description,
        actor=actor,
    )
