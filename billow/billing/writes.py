"""Set-based writes shared by the billing run and the billing actions.

Every function runs inside the caller's ``transaction.atomic()`` and writes in bulk: expenses by
one ``bulk_create``, their ledger transactions by one ``post_transactions_bulk``. Service status
changes go through the services app's set-based ``apply_transitions`` (billing writes no
service row itself). Notifications are sent on commit; their failure is logged.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from billow.billing.models import Expense, ExpenseKind
from billow.billing.plan import Notice, StatusChange, WalletKey
from billow.core import rows as db_rows
from billow.core.actors import Actor
from billow.ledger.actions import post_transactions_bulk
from billow.ledger.models import AccountKind, LedgerAccount, TransactionKind
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_account_id
from billow.services.actions import apply_transitions
from billow.services.models import ServiceOperation
from billow.services.states import SUSPENDED, ServiceStatus

logger = logging.getLogger("billow.billing")

RUN_ACTOR = Actor.job("billing_run")

_EVENT: dict[str, str] = {
    ServiceStatus.ACTIVE: "service_resumed",
    ServiceStatus.DELETED: "service_deleted",
}


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


# -- accounts ---------------------------------------------------------------------------------


def wallet_accounts(keys: Iterable[WalletKey], *, create: bool) -> dict[WalletKey, int]:
    """Client balance account ids for ``keys``; missing ones are created when ``create``."""
    wanted = set(keys)
    found = _find_wallets(wanted)
    missing = wanted - found.keys()
    if missing and create:
        LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(
                    kind=AccountKind.CLIENT_BALANCE, client_id=c, provider_id=p, currency=cur
                )
                for c, p, cur in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found.update(_find_wallets(missing))
    return found


def _find_wallets(keys: set[WalletKey]) -> dict[WalletKey, int]:
    if not keys:
        return {}
    clients = {k[0] for k in keys}
    rows = LedgerAccount.objects.filter(
        kind=AccountKind.CLIENT_BALANCE, client_id__in=clients, provider__isnull=False
    ).values_list("client_id", "provider_id", "currency", "id")
    return {(c, p, cur): i for c, p, cur, i in rows if (c, p, cur) in keys}


def revenue_account(provider_id: int, currency: str) -> int:
    """The provider's revenue account id in ``currency`` (created on first use)."""
    return get_account_id(
        kind=AccountKind.PROVIDER_REVENUE, currency=currency, provider_id=provider_id
    )


# -- money ------------------------------------------------------------------------------------


def write_money(
    items: Sequence[MoneyItem],
    wallets: dict[WalletKey, int],
    *,
    now: datetime,
    actor: Any,
    fast: bool = False,
) -> list[Expense]:
    """Post the non-zero items to the ledger (keyed by ``item.key``) and insert their expenses
    (returned, unless ``fast``: raw bulk insert for the run)."""
    revenue = {
        (k.wallet_key[1], k.wallet_key[2]): 0 for k in items if k.amount_minor
    }  # (provider, currency)
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
        _insert_expense_rows(rows)
        return []
    expenses = [Expense(**dict(zip(_EXPENSE_FIELDS, row, strict=True))) for row in rows]
    return db_rows.insert(expenses)  # the ORM's bulk_create build costs more than the INSERT


_EXPENSE_FIELDS = (
    "service_id",
    "client_id",
    "provider_id",
    "kind",
    "reason",
    "key",
    "period_from",
    "period_to",
    "amount_minor",
    "currency",
    "transaction_id",
    "description",
    "created_at",
)
_EXPENSE_COLS = ", ".join(_EXPENSE_FIELDS)
_EXPENSE_TABLE = Expense._meta.db_table
_PG_COPY_EXPENSES = f"COPY {_EXPENSE_TABLE} ({_EXPENSE_COLS}) FROM STDIN"
_SQLITE_INSERT_EXPENSE = (
    f"INSERT INTO {_EXPENSE_TABLE} ({_EXPENSE_COLS}) "  # noqa: S608 (names from the model)
    f"VALUES ({', '.join(['%s'] * len(_EXPENSE_FIELDS))})"
)


def _insert_expense_rows(rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL, executemany on SQLite: the run's thousands of expenses per chunk
    (the ORM's bulk_create costs several times more). Unique keys still guard against a
    second charge of a service-period."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(_PG_COPY_EXPENSES) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        stamp = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            _SQLITE_INSERT_EXPENSE,
            [(*row[:10], row[10], row[11], stamp(row[12])) for row in rows],
        )


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


# -- status changes ---------------------------------------------------------------------------


def apply_status_changes(
    changes: Sequence[StatusChange], *, now: datetime, actor: Any
) -> list[ServiceOperation]:
    """Apply status changes through the services app (``apply_transitions``: every move checked
    against the transition table, events and module operations written there) and notify the
    clients after commit. Returns the operations queued."""
    if not changes:
        return []
    created = apply_transitions(changes, actor=actor, now=now)
    notify_after_commit(change_notices(changes, now.date()))
    return created


def change_notices(changes: Sequence[StatusChange], day: date) -> list[Notice]:
    """The clients' notices of status changes, one per service and day."""
    out = []
    for c in changes:
        event = "service_suspended" if c.to_status in SUSPENDED else _EVENT[c.to_status]
        out.append(
            Notice(
                event,
                c.client_id,
                c.provider_id,
                {"service_id": c.service_id, "reason": c.reason},
                f"{event}:{c.service_id}:{day.isoformat()}",
            )
        )
    return out


# -- after commit -----------------------------------------------------------------------------


def _safely(what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except NotImplementedError:
        logger.warning("%s is not implemented yet; skipped", what)
    except Exception:  # a side effect must never undo committed billing; log and move on
        logger.exception("%s failed after commit", what)


def notify_after_commit(notices: Sequence[Notice]) -> None:
    """Group notices by event and call ``notify_clients_bulk`` once per event after commit."""
    if not notices:
        return
    by_event: dict[str, list[tuple[int, int | None, dict[str, Any], str]]] = defaultdict(list)
    for n in notices:
        by_event[n.event].append((n.client_id, n.provider_id, n.context, n.dedup_key))

    def send() -> None:
        from billow.notifications.actions import notify_clients_bulk

        for event, items in by_event.items():
            _safely(
                f"notify {event}", functools.partial(notify_clients_bulk, event=event, items=items)
            )

    transaction.on_commit(send)
