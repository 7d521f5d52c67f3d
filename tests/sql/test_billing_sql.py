"""billow/billing/sql.py: the wallet lock reads what the ORM reads, and the run's expense insert
(COPY on PostgreSQL, executemany on SQLite) stores what ``bulk_create`` stores, with amounts
near 2**62."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from billow.billing import sql
from billow.billing.models import ClientBillingSettings, Expense, ExpenseKind, ExpenseReason
from billow.core.errors import BillowError
from billow.ledger.models import AccountKind, LedgerAccount
from tests.billing.world import World
from tests.sql.conftest import BIG

pytestmark = pytest.mark.django_db

MOMENT = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)


def orm_wallet_row(client_id: int, provider_id: int, currency: str) -> tuple[Any, ...] | None:
    account = (
        LedgerAccount.objects.select_for_update()
        .filter(
            kind=AccountKind.CLIENT_BALANCE,
            client_id=client_id,
            provider_id=provider_id,
            currency=currency,
        )
        .order_by("id")
        .values_list("id", "balance_minor")
        .first()
    )
    if account is None:
        return None
    terms = (
        ClientBillingSettings.objects.filter(client_id=client_id, currency=currency)
        .values_list("credit_limit_minor", "postpaid")
        .first()
    ) or (None, None)
    return (*account, *terms)


def test_the_wallet_lock_reads_what_the_orm_reads(binding: str) -> None:
    world = World()
    rich, plain, newcomer = world.client(), world.client(), world.client()
    LedgerAccount.objects.filter(pk=world.wallet(rich).pk).update(balance_minor=BIG)
    world.wallet(plain)
    ClientBillingSettings.objects.create(client=rich, currency="USD", credit_limit_minor=BIG)
    ClientBillingSettings.objects.create(client=plain, currency="EUR", postpaid=True)
    provider = world.provider.pk
    with transaction.atomic():
        got = [sql.lock_wallet_row(c.pk, provider, "USD") for c in (rich, plain, newcomer)]
        want = [orm_wallet_row(c.pk, provider, "USD") for c in (rich, plain, newcomer)]
    # SQLite returns the post-paid flag as 0/1 from a raw statement
    assert [
        None if r is None else (*r[:3], None if r[3] is None else bool(r[3])) for r in got
    ] == want
    assert want == [
        (world.wallet(rich).pk, BIG, BIG, False),
        (world.wallet(plain).pk, 0, None, None),  # its terms are in EUR
        None,
    ]


def _expense_rows(world: World, txn_ids: list[int | None]) -> list[tuple[Any, ...]]:
    tariff = world.tariff("T", {"1m": 100})
    client = world.client()
    service = world.service(client, tariff, date(2027, 2, 1), charge=False)
    return [
        (
            service.pk,
            client.pk,
            world.provider.pk,
            ExpenseKind.CHARGE,
            ExpenseReason.PERIOD,
            f"charge:{service.pk}:{n}",
            date(2027, 3, 1 + n),
            date(2027, 4, 1),
            BIG - n,
            "USD",
            txn,
            "renewal",
            MOMENT,
            BIG // 10 - n,
            BIG // 20,
            Decimal("19.000"),
            n == 1,
            None,
            None,
        )
        for n, txn in enumerate(txn_ids)
    ]


def _stored(keys: list[str]) -> list[tuple[Any, ...]]:
    return list(
        Expense.objects.filter(key__in=keys).order_by("key").values_list(*sql.EXPENSE_ATTRS)
    )


def test_the_expense_insert_stores_what_bulk_create_stores(binding: str) -> None:
    world = World()
    rows = _expense_rows(world, [None, None, None])
    keys = [r[5] for r in rows]
    stored = []
    for write in ("sql", "orm"):
        with transaction.atomic():
            if write == "sql":
                sql.insert_expense_rows(rows)
            else:
                Expense.objects.bulk_create(
                    [Expense(**dict(zip(sql.EXPENSE_ATTRS, r, strict=True))) for r in rows]
                )
            stored.append(_stored(keys))
            transaction.set_rollback(True)
    assert stored[0] == stored[1]
    assert [r[8] for r in stored[0]] == [BIG, BIG - 1, BIG - 2]
    assert stored[0][0][12] == MOMENT


def test_an_expense_past_the_64_bit_range_is_refused_and_nothing_written(binding: str) -> None:
    world = World()
    rows = _expense_rows(world, [None, None])
    rows[1] = (*rows[1][:8], 2**63, *rows[1][9:])
    with pytest.raises(BillowError) as refused:
        sql.insert_expense_rows(rows)
    assert refused.value.code == "amount_out_of_range"
    assert not Expense.objects.exists()
