"""Moving money between a client's wallet and the provider's revenue for a service.

Every movement is an ``Expense`` row (what the client sees: a charge, a refund, a credit for a
service and a span of days) and a ledger transaction under the same unique key, so a replay
posts nothing twice. Set-based: the billing run writes thousands in one call; a checkout or a
tariff change writes one. Runs inside the caller's transaction, after it locked the wallets.

Tax: a charge whose ``tax`` is None is priced through the checkout's tax rules
(``billow.billing.taxes``); a refund or credit whose ``tax`` is None gives back the share of the
tax charged for the days it refunds (never more than was charged). The transaction has up to
three legs: the wallet moves the gross amount, revenue the net, tax payable the tax.

Documents (``documents=True``, ``billow.billing.documents``): the charges of each (client,
provider, currency) get one paid invoice, each refund or credit a credit note against the
invoice of the charge it corrects. Post-paid wallets' charges and ``documents=False`` stay
undocumented (``document_pending_charges`` documents them later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from billow.billing import sql
from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.billing.wallet.balance import WalletKey, charge_key
from billow.core import rows as db_rows
from billow.ledger.actions import post_transactions_bulk
from billow.ledger.models import AccountKind, TransactionKind
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_account_id


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


@dataclass(frozen=True, slots=True)
class MoneyItem:
    """One expense to write and post. Charges move ``amount_minor`` (plus the tax added on top)
    from the client balance to provider revenue (less the tax included) and tax payable;
    refunds and credits move it back.

    ``tax``: None = priced by ``write_money`` (see the module docstring). ``proration`` and
    ``list_price_minor``: a partial period's share and the whole period's price, shown on the
    invoice line."""

    service_id: int
    wallet_key: WalletKey
    kind: str
    reason: str
    key: str
    period_from: date
    period_to: date
    amount_minor: int
    description: str = ""
    tax: ItemTax | None = None
    proration: Fraction | None = None
    list_price_minor: int | None = None

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
        tax: ItemTax | None = None,
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
            tax,
        )

    @property
    def is_charge(self) -> bool:
        return self.kind == ExpenseKind.CHARGE

    @property
    def item_tax(self) -> ItemTax:
        return self.tax or NO_TAX

    @property
    def gross_minor(self) -> int:
        return self.amount_minor + self.item_tax.tax_added_minor


def revenue_account(provider_id: int, currency: str) -> int:
    """The provider's revenue account id in ``currency`` (created on first use)."""
    return get_account_id(
        kind=AccountKind.PROVIDER_REVENUE, currency=currency, provider_id=provider_id
    )


def tax_payable_account(provider_id: int, currency: str) -> int:
    """The provider's tax payable account id in ``currency`` (created on first use)."""
    return get_account_id(kind=AccountKind.TAX_PAYABLE, currency=currency, provider_id=provider_id)


def write_money(
    items: Sequence[MoneyItem],
    wallets: dict[WalletKey, int],
    *,
    now: datetime,
    actor: Any,
    fast: bool = False,
    documents: bool = True,
) -> list[Expense]:
    """Price the tax of the items that have none, post the non-zero ones to the ledger (keyed
    by ``item.key``) between the wallet account (``wallets[item.wallet_key]``), revenue and
    tax payable, document them (unless ``documents`` is False: their expenses have no invoice
    or credit note), and insert their expenses (returned, unless ``fast``: the billing run's
    bulk insert, which returns nothing)."""
    from billow.billing import documents as docs
    from billow.billing.taxes import price_items_tax

    items = price_items_tax(items)
    accounts = _accounts(items)
    postings = [_posting(item, wallets, accounts, actor) for item in items if item.gross_minor]
    txn_ids = iter(post_transactions_bulk(postings, now=now).transaction_ids if postings else [])
    links = docs.document_items(items, now=now, actor=actor) if documents else docs.NO_LINKS
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
            next(txn_ids) if item.gross_minor else None,
            item.description,
            now,
            item.item_tax.tax_minor,
            item.item_tax.tax_added_minor,
            item.item_tax.rate,
            item.item_tax.reverse_charge,
            links.invoices.get(n),
            links.credit_notes.get(n),
        )
        for n, item in enumerate(items)
    ]
    if fast:
        sql.insert_expense_rows(rows)
        return []
    expenses = [Expense(**dict(zip(sql.EXPENSE_ATTRS, row, strict=True))) for row in rows]
    return db_rows.insert(expenses)  # the ORM's bulk_create build costs more than the INSERT


def move_money(
    item: MoneyItem, account_id: int, *, now: datetime, actor: Any, documents: bool = True
) -> Expense:
    """One movement for a wallet the caller locked (``account_id``): ``write_money`` of one."""
    return write_money(
        [item], {item.wallet_key: account_id}, now=now, actor=actor, documents=documents
    )[0]


def with_tax(item: MoneyItem, tax: ItemTax) -> MoneyItem:
    return replace(item, tax=tax)


def _accounts(items: Sequence[MoneyItem]) -> dict[tuple[int, str], tuple[int, int | None]]:
    """(revenue, tax payable or None) per (provider, currency) of the items that move money."""
    out: dict[tuple[int, str], tuple[int, int | None]] = {}
    taxed: set[tuple[int, str]] = set()
    for item in items:
        if item.gross_minor:
            out[(item.wallet_key[1], item.wallet_key[2])] = (0, None)
            if item.item_tax.tax_minor:
                taxed.add((item.wallet_key[1], item.wallet_key[2]))
    for provider_id, currency in out:
        payable = (
            tax_payable_account(provider_id, currency) if (provider_id, currency) in taxed else None
        )
        out[(provider_id, currency)] = (revenue_account(provider_id, currency), payable)
    return out


def _posting(
    item: MoneyItem,
    wallets: dict[WalletKey, int],
    accounts: dict[tuple[int, str], tuple[int, int | None]],
    actor: Any,
) -> Posting:
    wallet = wallets[item.wallet_key]
    income, payable = accounts[(item.wallet_key[1], item.wallet_key[2])]
    tax = item.item_tax
    sign = 1 if item.is_charge else -1
    legs = [(wallet, -sign * item.gross_minor)]
    if item.amount_minor - tax.included_minor:
        legs.append((income, sign * (item.amount_minor - tax.included_minor)))
    if tax.tax_minor:
        assert payable is not None
        legs.append((payable, sign * tax.tax_minor))
    return Posting(
        kind=TransactionKind.CHARGE if sign > 0 else TransactionKind.CHARGE_REVERSAL,
        legs=legs,
        idempotency_key=item.key,
        reference=f"services.service:{item.service_id}",
        memo=item.description,
        actor=actor,
    )
