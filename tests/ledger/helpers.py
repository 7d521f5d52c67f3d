"""Assertion helpers for ledger tests."""

from __future__ import annotations

from typing import Any

from billow.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction


def ledger_state() -> tuple[Any, ...]:
    """Every row count and cached balance: equal before and after a refused operation."""
    return (
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        LedgerAccount.objects.count(),
        sorted(LedgerAccount.objects.values_list("id", "balance_minor")),
    )


def balance_of(account: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance_minor", flat=True).get(pk=account.pk)


def entry_sum(account: LedgerAccount) -> int:
    return sum(LedgerEntry.objects.filter(account=account).values_list("amount_minor", flat=True))
