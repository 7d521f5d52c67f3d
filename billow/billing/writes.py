"""Set-based writes shared by the billing run and the billing actions.

Every function runs inside the caller's ``transaction.atomic()`` and writes in bulk: expenses by
one ``bulk_create``, their ledger transactions by one ``post_transactions_bulk``, status changes
by one conditional UPDATE per (from, to) group plus bulk event and operation inserts. Side
effects (module operations, notifications) are scheduled on commit; their failure is logged.
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
from django.db.models import Q

from billow.billing.models import Expense, ExpenseKind
from billow.billing.plan import Notice, StatusChange, WalletKey
from billow.core import rows as db_rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.ledger.actions import post_transactions_bulk
from billow.ledger.models import AccountKind, LedgerAccount, TransactionKind
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_account_id
from billow.services.models import Service, ServiceEvent, ServiceOperation
from billow.services.states import SUSPENDED, ServiceStatus, SubState, can_transition

logger = logging.getLogger("billow.billing")

RUN_ACTOR = Actor.job("billing_run")

_OPERATION: dict[str, str] = {ServiceStatus.ACTIVE: "resume", ServiceStatus.DELETED: "close"}
_SUB_STATE: dict[str, str] = {
    "suspend": SubState.SUSPEND,
    "resume": SubState.RESUME,
    "close": SubState.DELETE,
}
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


def set_paid_until(new_dates: dict[int, date], *, now: datetime) -> None:
    """One UPDATE per distinct new date (a run's renewals share few end dates)."""
    by_date: dict[date, list[int]] = defaultdict(list)
    for service_id, paid in new_dates.items():
        by_date[paid].append(service_id)
    for paid, ids in by_date.items():
        if connection.vendor == "postgresql":  # one array parameter instead of N placeholders
            with connection.cursor() as cursor:
                cursor.execute(_PG_SET_PAID_UNTIL, [paid, now, ids])
        else:
            Service.objects.filter(pk__in=ids).update(paid_until=paid, updated_at=now)


_PG_SET_PAID_UNTIL = (
    f"UPDATE {Service._meta.db_table} SET paid_until = %s, updated_at = %s "  # noqa: S608
    "WHERE id = ANY(%s)"
)


# -- status changes ---------------------------------------------------------------------------


def operation_for(to_status: str) -> str:
    return "suspend" if to_status in SUSPENDED else _OPERATION[to_status]


def apply_status_changes(
    changes: Sequence[StatusChange], *, now: datetime, actor: Any
) -> list[ServiceOperation]:
    """Apply status changes in bulk. A service with a module instance goes to in progress and
    gets a queued operation (key ``<operation>:<service_id>:<date>``) dispatched after commit;
    one without goes straight to the new status (through in progress when the transition
    table has no direct move). Writes one event per hop; notifies clients after commit."""
    if not changes:
        return []
    groups: dict[tuple[str, str, str], list[StatusChange]] = defaultdict(list)
    events: list[ServiceEvent] = []
    operations: list[ServiceOperation] = []
    for c in changes:
        target = ServiceStatus.IN_PROGRESS if c.module_instance_id else c.to_status
        sub = _SUB_STATE[operation_for(c.to_status)] if c.module_instance_id else ""
        groups[(c.from_status, target, sub)].append(c)
        events.extend(_events(c, actor, now))
        if c.module_instance_id:
            operations.append(_operation(c, now))
    for (from_status, target, sub), group in groups.items():
        _update_group(from_status, target, sub, [c.service_id for c in group], now)
    ServiceEvent.objects.bulk_create(events, batch_size=2000)
    created = _insert_operations(operations)
    _after_commit_operations([op.pk for op in created])
    notify_after_commit(_change_notices(changes, now.date()))
    return created


def _update_group(from_status: str, target: str, sub: str, ids: list[int], now: datetime) -> None:
    fields: dict[str, Any] = {"status": target, "sub_state": sub, "updated_at": now}
    final = target
    if target == ServiceStatus.IN_PROGRESS:
        final = ""  # the operation decides; the suspension clock starts at the decision
    if final in SUSPENDED or (sub == SubState.SUSPEND):
        fields["suspended_at"] = now
    if final == ServiceStatus.ACTIVE:
        fields["suspended_at"] = None
    if final == ServiceStatus.DELETED:
        fields["deleted_at"] = now
    moved = Service.objects.filter(pk__in=ids, status=from_status).update(**fields)
    if moved != len(ids):
        from billow.billing.errors import BillingConflictError

        raise BillingConflictError(
            f"{len(ids) - moved} services changed status meanwhile", code="service_changed"
        )


def _hops(from_status: str, to_status: str) -> list[tuple[str, str]]:
    if can_transition(from_status, to_status):
        return [(from_status, to_status)]
    return [(from_status, ServiceStatus.IN_PROGRESS), (ServiceStatus.IN_PROGRESS, to_status)]


def _events(c: StatusChange, actor: Any, now: datetime) -> list[ServiceEvent]:
    data = {"reason": c.reason, "target_status": c.to_status}
    hops: list[tuple[str, str, str]]
    if c.module_instance_id:
        op = operation_for(c.to_status)
        hops = [(c.from_status, ServiceStatus.IN_PROGRESS, f"service.{op}_started")]
    else:
        hops = [
            (a, b, "service.in_progress" if b == ServiceStatus.IN_PROGRESS else _event_type(b))
            for a, b in _hops(c.from_status, c.to_status)
        ]
    return [
        ServiceEvent(
            service_id=c.service_id,
            from_status=a,
            to_status=b,
            **audit_kwargs(actor, kind, data, now=now),
        )
        for a, b, kind in hops
    ]


def _event_type(status: str) -> str:
    if status in SUSPENDED:
        return "service.suspended"
    names: dict[str, str] = {
        ServiceStatus.ACTIVE: "service.resumed",
        ServiceStatus.DELETED: "service.deleted",
    }
    return names.get(status, "service.status_changed")


def _operation(c: StatusChange, now: datetime) -> ServiceOperation:
    op = operation_for(c.to_status)
    return ServiceOperation(
        service_id=c.service_id,
        module_instance_id=c.module_instance_id,
        operation=op,
        idempotency_key=f"{op}:{c.service_id}:{now.date().isoformat()}",
        payload={"target_status": c.to_status, "reason": c.reason},
        from_status=c.from_status,
        created_at=now,
    )


def _insert_operations(operations: list[ServiceOperation]) -> list[ServiceOperation]:
    if not operations:
        return []
    ServiceOperation.objects.bulk_create(operations, ignore_conflicts=True)
    keys = [op.idempotency_key for op in operations]
    return list(ServiceOperation.objects.filter(Q(idempotency_key__in=keys), status="queued"))


def _change_notices(changes: Sequence[StatusChange], day: date) -> list[Notice]:
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


def _after_commit_operations(ids: list[int]) -> None:
    if not ids:
        return

    def dispatch() -> None:
        from billow.services.actions import dispatch_operations

        dispatch_operations(ids)

    transaction.on_commit(lambda: _safely("dispatch_operations", dispatch))


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
