"""Concurrent posting on PostgreSQL: hot accounts, fixed lock order, idempotency under races."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.models import LedgerAccount, LedgerTransaction
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_reconcile_report
from tests.ledger.helpers import balance_of, entry_sum

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def run_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in n threads started together; each closes its own connection."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # collected and asserted on in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return errors


def test_eight_threads_posting_to_one_account(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given one wallet and one revenue account shared by 8 threads, half listing legs reversed
    def work(i: int) -> None:
        for n in range(500):
            legs = [(wallet, -(n + 1)), (revenue, n + 1)]
            post_transaction(
                kind="charge", legs=legs if i % 2 else legs[::-1], idempotency_key=f"t{i}:{n}"
            )

    # when each thread posts 500 transactions
    errors = run_threads(8, work)
    # then nothing failed (no deadlock) and the cached balances equal the entries
    assert errors == []
    expected = 8 * sum(range(1, 501))
    assert LedgerTransaction.objects.count() == 4000
    assert balance_of(wallet) == entry_sum(wallet) == -expected
    assert balance_of(revenue) == entry_sum(revenue) == expected
    assert get_reconcile_report().ok


def test_racing_replays_of_the_same_keys_post_once(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given 4 threads posting the same 100 keys at the same time
    returned: dict[int, set[int]] = {}

    def work(i: int) -> None:
        ids = {
            post_transaction(
                kind="charge", legs=[(wallet, -7), (revenue, 7)], idempotency_key=f"same:{n}"
            ).pk
            for n in range(100)
        }
        returned[i] = ids

    errors = run_threads(4, work)
    # then each key was posted once and every thread got the same transactions back
    assert errors == []
    assert LedgerTransaction.objects.count() == 100
    assert len({frozenset(ids) for ids in returned.values()}) == 1
    assert balance_of(wallet) == entry_sum(wallet) == -700
    assert get_reconcile_report().ok


def test_bulk_and_single_posters_together(
    make_account: Callable[..., LedgerAccount], revenue: LedgerAccount
) -> None:
    # given two bulk posters and two single posters sharing the revenue account
    wallets = [make_account() for _ in range(20)]

    def work(i: int) -> None:
        if i < 2:
            items = [
                Posting("charge", [(wallets[n % 20], -3), (revenue, 3)], f"bulk{i}:{n}")
                for n in range(2000)
            ]
            post_transactions_bulk(items)
        else:
            for n in range(200):
                post_transaction(
                    kind="charge",
                    legs=[(revenue, 5), (wallets[n % 20], -5)],
                    idempotency_key=f"one{i}:{n}",
                )

    errors = run_threads(4, work)
    assert errors == []
    assert balance_of(revenue) == entry_sum(revenue) == 2 * 2000 * 3 + 2 * 200 * 5
    assert get_reconcile_report().ok
