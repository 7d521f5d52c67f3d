"""Property: any sequence of postings, replays and refusals keeps the ledger reconciled.

Each example runs against fresh accounts and a Python model of the expected balances; after every
example every transaction is zero-sum per currency, every cached balance equals its entries and
equals the model, and ``billow reconcile`` passes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billow.core.errors import ConflictError, ValidationError
from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.models import LedgerAccount
from billow.ledger.postings import Posting
from billow.ledger.selectors import get_reconcile_report
from tests.ledger.helpers import balance_of, entry_sum, ledger_state

pytestmark = pytest.mark.django_db

CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR"]  # account index -> currency
# Beyond 32 bits, and 15 operations of them stay far inside the USD and EUR balance limits.
amounts = st.integers(min_value=-(10**12), max_value=10**12).filter(bool)
raw_legs = st.lists(st.tuples(st.integers(0, len(CURRENCIES) - 1), amounts), min_size=1, max_size=4)
ops = st.lists(
    st.tuples(st.sampled_from(["post", "replay", "conflict", "unbalanced", "bulk"]), raw_legs),
    max_size=15,
)

Legs = list[tuple[int, int]]  # (account index, amount)


def balanced(raw: Legs) -> Legs:
    """Close every currency with a leg on the first account of that currency."""
    legs = list(raw)
    for currency in sorted({CURRENCIES[i] for i, _ in raw}):
        total = sum(m for i, m in legs if CURRENCIES[i] == currency)
        if total:
            legs.append((CURRENCIES.index(currency), -total))
    if not legs or all(m == 0 for _, m in legs):
        legs = [(0, 1), (1, -1)]
    return legs


class LedgerModel:
    """The expected state: balances per account index and the legs posted under each key."""

    def __init__(self, accounts: list[LedgerAccount]) -> None:
        self.accounts = accounts
        self.balances = [0] * len(accounts)
        self.posted: dict[str, Legs] = {}
        self.prefix = uuid.uuid4().hex[:8]

    def key(self) -> str:
        return f"{self.prefix}:{len(self.posted)}"

    def as_legs(self, legs: Legs) -> list[tuple[LedgerAccount, int]]:
        return [(self.accounts[i], m) for i, m in legs]

    def apply(self, key: str, legs: Legs) -> None:
        self.posted[key] = legs
        for i, m in legs:
            self.balances[i] += m

    def post(self, raw: Legs) -> None:
        key, legs = self.key(), balanced(raw)
        post_transaction(kind="charge", legs=self.as_legs(legs), idempotency_key=key)
        self.apply(key, legs)

    def replay(self, raw: Legs) -> None:
        if not self.posted:
            return
        key = sorted(self.posted)[len(raw) % len(self.posted)]
        before = ledger_state()
        post_transaction(kind="charge", legs=self.as_legs(self.posted[key]), idempotency_key=key)
        assert ledger_state() == before

    def conflict(self, raw: Legs) -> None:
        if not self.posted:
            return
        key = sorted(self.posted)[len(raw) % len(self.posted)]
        other = [(i, m * 2) for i, m in self.posted[key]]
        before = ledger_state()
        with pytest.raises(ConflictError):
            post_transaction(kind="charge", legs=self.as_legs(other), idempotency_key=key)
        assert ledger_state() == before

    def unbalanced(self, raw: Legs) -> None:
        legs = balanced(raw)
        i, m = legs[0]
        legs[0] = (i, m + 1 if m + 1 else m + 2)
        before = ledger_state()
        with pytest.raises(ValidationError) as err:
            post_transaction(kind="charge", legs=self.as_legs(legs), idempotency_key=self.key())
        assert err.value.code == "unbalanced_transaction"
        assert ledger_state() == before

    def bulk(self, raw: Legs) -> None:
        items: list[Posting] = []
        fresh: list[tuple[str, Legs]] = []
        for n in range(1, len(raw) + 1):
            key, legs = f"{self.key()}:bulk{n}", balanced(raw[:n])
            items.append(Posting("charge", self.as_legs(legs), key))
            fresh.append((key, legs))
        replays = [Posting("charge", self.as_legs(v), k) for k, v in list(self.posted.items())[:2]]
        result = post_transactions_bulk(items + replays)
        assert (result.created, result.replayed) == (len(items), len(replays))
        for key, legs in fresh:
            self.apply(key, legs)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=ops)
def test_random_postings_keep_the_ledger_reconciled(
    sequence: list[tuple[str, Legs]], make_account: Callable[..., LedgerAccount]
) -> None:
    # given fresh accounts in two currencies and an empty model
    model = LedgerModel([make_account(currency=c) for c in CURRENCIES])
    # when a random sequence of postings, replays, key reuses and unbalanced posts runs
    for op, raw in sequence:
        getattr(model, op)(raw)
    # then cached balances equal the entries and the model, and the whole ledger reconciles
    for account, expected in zip(model.accounts, model.balances, strict=True):
        assert balance_of(account) == entry_sum(account) == expected
    report = get_reconcile_report()
    assert (report.unbalanced, report.balance_mismatches, report.empty) == ([], [], [])
    call_command("reconcile", stdout=StringIO())
