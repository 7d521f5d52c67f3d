"""billow/ledger/sql.py: the bulk paths write what ``post_transaction`` (the ORM) writes, with
amounts near the balance limit (beyond 32 bits); a balance past its currency's limit is refused
on every path with nothing written; a database error inside the small path leaves the caller's
transaction usable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction

from billow.core.errors import RetryableError
from billow.core.money import balance_limit_minor
from billow.ledger import bulk, sql
from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.errors import BalanceOutOfRangeError
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.postings import Posting
from tests.ledger.helpers import ledger_state

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
PATHS = ["orm", "bulk", "small"]
LIMIT = balance_limit_minor("USD")
BIG = LIMIT - 12_345  # a balance this big is allowed; twice it is not


def post(path: str, items: Sequence[Posting], monkeypatch: pytest.MonkeyPatch) -> None:
    """Post ``items`` through one path: ``orm`` (post_transaction, one by one), ``bulk`` (the
    general COPY / executemany path) or ``small`` (PostgreSQL's three-statement path)."""
    if path == "orm":
        for item in items:
            post_transaction(
                kind=item.kind,
                legs=item.legs,
                idempotency_key=item.idempotency_key,
                reference=item.reference,
                memo=item.memo,
                actor=item.actor,
            )
        return
    monkeypatch.setattr(bulk, "SMALL_BATCH", 16 if path == "small" else 0)
    assert bulk.is_small(items) == (path == "small")
    post_transactions_bulk(items, now=NOW)


def need(path: str) -> None:
    if path == "small" and connection.vendor != "postgresql":
        pytest.skip("the small path is PostgreSQL's")


def canonical(keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every row the postings with ``keys`` wrote, without ids and times, plus all balances."""
    txns = LedgerTransaction.objects.filter(idempotency_key__in=keys).order_by("idempotency_key")
    out: list[tuple[Any, ...]] = []
    for t in txns:
        entries = sorted(
            LedgerEntry.objects.filter(transaction=t).values_list(
                "account_id", "amount_minor", "currency"
            )
        )
        fields = (t.kind, t.idempotency_key, t.reference_type, t.reference_id, t.memo)
        out.append((*fields, t.actor_kind, t.actor_id, t.legs_hash, entries))
    out.append(tuple(sorted(LedgerAccount.objects.values_list("id", "balance_minor"))))
    return out


def rolled_back(run: Callable[[], None], keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """The canonical rows ``run`` writes, rolled back afterwards (so paths compare alike)."""
    with transaction.atomic():
        run()
        rows = canonical(keys)
        transaction.set_rollback(True)
    return rows


@pytest.fixture
def accounts(make_account: Callable[..., LedgerAccount]) -> dict[str, LedgerAccount]:
    return {
        "w1": make_account(),
        "w2": make_account(),
        "h1": make_account(AccountKind.PROVIDER_REVENUE),
        "h2": make_account(AccountKind.ADJUSTMENTS),
    }


def big_postings(a: dict[str, LedgerAccount], prefix: str = "m") -> list[Posting]:
    """Balances pushed near the limit and back, every statement's parameters beyond 32 bits."""
    w1, w2, h1, h2 = a["w1"], a["w2"], a["h1"], a["h2"]
    return [
        Posting("adjustment", [(w1, BIG), (h1, -BIG)], f"{prefix}:1", "invoice:7", "in", "job"),
        Posting("charge", [(w1, -BIG + 7), (h2, BIG - 7)], f"{prefix}:2", "", "out"),
        Posting("adjustment", [(w2, BIG), (h2, -BIG), (w1, 5), (h1, -5)], f"{prefix}:3"),
    ]


@pytest.mark.parametrize("path", ["bulk", "small"])
def test_each_path_writes_the_rows_of_post_transaction(
    path: str,
    binding: str,
    accounts: dict[str, LedgerAccount],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need(path)
    items = big_postings(accounts)
    keys = [i.idempotency_key for i in items]
    by_orm = rolled_back(lambda: post("orm", items, monkeypatch), keys)
    by_sql = rolled_back(lambda: post(path, items, monkeypatch), keys)
    assert by_sql == by_orm
    balances = dict(by_orm[-1])
    assert balances[accounts["w1"].pk] == 12 and balances[accounts["w2"].pk] == BIG


@pytest.mark.parametrize("path", ["bulk", "small"])
def test_a_replayed_batch_writes_nothing_more(
    path: str,
    binding: str,
    accounts: dict[str, LedgerAccount],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the existing-keys statement of each path finds the keys the ORM posted
    need(path)
    items = big_postings(accounts)
    post("orm", items, monkeypatch)
    before = ledger_state()
    post(path, items, monkeypatch)
    assert ledger_state() == before


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("sign", [1, -1])
def test_a_balance_past_the_limit_is_refused_with_nothing_written(
    path: str,
    sign: int,
    binding: str,
    accounts: dict[str, LedgerAccount],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given w2 near ±limit and w1 (moved first, in id order) far from the limits
    need(path)
    w1, w2, h1, h2 = accounts["w1"], accounts["w2"], accounts["h1"], accounts["h2"]
    post("orm", [Posting("adjustment", [(w2, sign * BIG), (h1, -sign * BIG)], "seed")], monkeypatch)
    before = ledger_state()
    # when a posting would take w2 to ±(2 * limit - ...) while moving w1 within range
    over = Posting("adjustment", [(w1, 1), (w2, sign * BIG), (h2, -sign * BIG - 1)], "over")
    with pytest.raises(BalanceOutOfRangeError) as refused:
        post(path, [over], monkeypatch)
    # then it is refused with balance_out_of_range and nothing is written (w1's move included)
    assert refused.value.code == "balance_out_of_range"
    assert ledger_state() == before
    assert LedgerAccount.objects.get(pk=w2.pk).balance_minor == sign * BIG


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("sign", [1, -1])
def test_a_balance_may_reach_the_limit_exactly_and_not_one_minor_unit_more(
    path: str,
    sign: int,
    binding: str,
    accounts: dict[str, LedgerAccount],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given w1 at exactly ±limit (the house account h1 holds the other side)
    need(path)
    w1, h1, h2 = accounts["w1"], accounts["h1"], accounts["h2"]
    post(
        path,
        [Posting("adjustment", [(w1, sign * LIMIT), (h1, -sign * LIMIT)], "edge")],
        monkeypatch,
    )
    assert LedgerAccount.objects.get(pk=w1.pk).balance_minor == sign * LIMIT
    before = ledger_state()
    # when one more minor unit would move into it, then it is refused and nothing is written
    with pytest.raises(BalanceOutOfRangeError) as refused:
        post(path, [Posting("adjustment", [(w1, sign), (h2, -sign)], "one-more")], monkeypatch)
    assert refused.value.code == "balance_out_of_range"
    assert ledger_state() == before


@pytest.mark.parametrize("path", PATHS)
def test_a_delta_wider_than_the_whole_range_is_refused_before_any_statement(
    path: str, binding: str, accounts: dict[str, LedgerAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the probe's amount: 2**63 - 1 minor units in one posting (a valid amount)
    need(path)
    w1, h1 = accounts["w1"], accounts["h1"]
    before = ledger_state()
    huge = Posting("payment", [(w1, 2**63 - 1), (h1, -(2**63 - 1))], "probe")
    with pytest.raises(BalanceOutOfRangeError) as refused:
        post(path, [huge], monkeypatch)
    # then balance_out_of_range names the first account it checked and nothing is written
    assert refused.value.code == "balance_out_of_range"
    assert ledger_state() == before


@pytest.mark.postgres_only
def test_a_database_error_in_the_small_path_leaves_the_callers_transaction_usable(
    binding: str, accounts: dict[str, LedgerAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a key posted by another transaction after the small path looked for it (the race
    # its unique key decides): the plan is made not to see the existing key
    w1, h1 = accounts["w1"], accounts["h1"]
    item = Posting("adjustment", [(w1, BIG), (h1, -BIG)], "raced")
    post("orm", [item], monkeypatch)
    plan_small = sql.PostgresWriter.plan_small

    def blind(self: sql.PostgresWriter, keys: list[str], ids: list[int]) -> Any:
        _found, fresh = plan_small(self, keys, ids)
        return [], fresh

    monkeypatch.setattr(sql.PostgresWriter, "plan_small", blind)
    before = ledger_state()
    with transaction.atomic():  # the caller's transaction
        # when the small path's INSERT hits the unique key
        with pytest.raises(RetryableError) as raced:
            post_transactions_bulk([item], now=NOW)
        # then the caller's transaction still runs statements, and nothing was written
        assert raced.value.code == "ledger_bulk_race"
        assert ledger_state() == before
        post_transaction(kind="adjustment", legs=[(w1, 3), (h1, -3)], idempotency_key="after")
    assert LedgerAccount.objects.get(pk=w1.pk).balance_minor == BIG + 3
