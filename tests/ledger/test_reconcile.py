"""billow reconcile: passes on a clean ledger, names and fails on every kind of mismatch."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from billow.cli import main
from billow.ledger.actions import post_transaction
from billow.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.selectors import get_reconcile_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(wallet: LedgerAccount, revenue: LedgerAccount) -> LedgerTransaction:
    post_transaction(kind="charge", legs=[(wallet, -300), (revenue, 300)], idempotency_key="a")
    return post_transaction(kind="charge", legs=[(wallet, -20), (revenue, 20)], idempotency_key="b")


def _sql(sql: str, params: list[object]) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def test_clean_ledger_reconciles(posted: LedgerTransaction) -> None:
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert "Checked 2 transactions, 4 entries, 2 accounts." in out.getvalue()
    assert "no mismatches" in out.getvalue()


def test_tampered_balance_is_reported_and_fails(
    posted: LedgerTransaction, wallet: LedgerAccount
) -> None:
    # given a cached balance changed behind the ledger's back
    _sql(
        "UPDATE ledger_ledgeraccount SET balance_minor = %s WHERE id = %s",
        [7, wallet.pk],
    )
    # when reconcile runs
    err = StringIO()
    with pytest.raises(CommandError, match="1 mismatches"):
        call_command("reconcile", stdout=StringIO(), stderr=err)
    # then the account, both figures and the difference are listed
    assert f"account {wallet.pk}: cached balance 7 != sum of entries -320 (off by 327)" in (
        err.getvalue()
    )


def test_tampered_entry_makes_transaction_unbalanced(posted: LedgerTransaction) -> None:
    # given one entry's amount changed with raw SQL (the ORM refuses)
    entry = posted.entries.order_by("id").first()
    assert entry is not None
    _sql("UPDATE ledger_ledgerentry SET amount_minor = %s WHERE id = %s", [-25, entry.pk])
    report = get_reconcile_report()
    # then the transaction is unbalanced and the account's cache no longer matches
    assert report.unbalanced == [(posted.pk, "USD", -5)]
    assert report.balance_mismatches == [(entry.account_id, -320, -325)]
    assert not report.ok


def test_empty_transaction_and_currency_mismatch_are_reported(posted: LedgerTransaction) -> None:
    # given a transaction row without entries and an entry whose currency drifted
    LedgerTransaction.objects.create(kind="x", idempotency_key="orphan", legs_hash="0" * 64)
    orphan = LedgerTransaction.objects.get(idempotency_key="orphan")
    entry = posted.entries.order_by("id").first()
    assert entry is not None
    _sql("UPDATE ledger_ledgerentry SET currency = 'EUR' WHERE id = %s", [entry.pk])
    report = get_reconcile_report()
    assert report.empty == [orphan.pk]
    assert report.currency_mismatches == [entry.pk]
    # EUR -20 and USD +20 in one transaction: both currencies unbalanced
    assert sorted(report.unbalanced) == [(posted.pk, "EUR", -20), (posted.pk, "USD", 20)]


def test_billow_cli_exits_non_zero_on_mismatch(
    posted: LedgerTransaction,
    wallet: LedgerAccount,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # run_from_argv closes DB connections when done; keep the test's transaction open
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    assert main(["billow", "reconcile"]) == 0
    _sql("UPDATE ledger_ledgeraccount SET balance_minor = 0 WHERE id = %s", [wallet.pk])
    with pytest.raises(SystemExit) as exit_info:
        main(["billow", "reconcile"])
    assert exit_info.value.code == 1
    assert "ledger does not reconcile" in capsys.readouterr().err


def test_orphan_entry_is_reported(posted: LedgerTransaction) -> None:
    # given an entry inserted behind the ledger's back for an account that does not exist
    _sql(
        "INSERT INTO ledger_ledgerentry (transaction_id, account_id, amount_minor, currency) "
        "VALUES (%s, %s, %s, %s)",
        [posted.pk, 987_654, 1, "USD"],
    )
    orphan = LedgerEntry.objects.get(account_id=987_654)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile", stdout=StringIO(), stderr=err)
    assert get_reconcile_report().orphans == [orphan.pk]
    assert f"entry {orphan.pk}: its transaction or account does not exist" in err.getvalue()


def test_rows_past_2_63_from_before_the_limit_are_reported_not_crashed_on(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given the probe's ledger, written before balances were limited: two payments of 2**62 + 1
    # into the wallet (their entries sum past 2**63: SQLite's SUM raises "integer overflow") and
    # a cached balance the database could not hold exactly
    big = 2**62 + 1
    for n in (1, 2):
        _sql(
            "INSERT INTO ledger_ledgertransaction (kind, idempotency_key, reference_type, "
            "reference_id, memo, actor_kind, actor_id, legs_hash, created_at) "
            "VALUES ('payment', %s, '', '', '', 'system', '', '', %s)",
            [f"probe{n}", "2026-12-07 00:00:00"],
        )
        txn_id = LedgerTransaction.objects.get(idempotency_key=f"probe{n}").pk
        for account, amount in ((wallet, big), (revenue, -big)):
            _sql(
                "INSERT INTO ledger_ledgerentry (transaction_id, account_id, amount_minor, "
                "currency) VALUES (%s, %s, %s, 'USD')",
                [txn_id, account.pk, amount],
            )
    _sql("UPDATE ledger_ledgeraccount SET balance_minor = %s WHERE id = %s", [big, wallet.pk])
    # when reconcile runs
    err = StringIO()
    with pytest.raises(CommandError, match="3 mismatches"):
        call_command("reconcile", stdout=StringIO(), stderr=err)
    # then it lists, with exact figures, both balance mismatches and the wallet beyond the limit
    text = err.getvalue()
    assert f"account {wallet.pk}: cached balance {big} != sum of entries {2 * big}" in text
    assert f"account {revenue.pk}: cached balance 0 != sum of entries {-2 * big}" in text
    assert f"account {wallet.pk}: balance {big} is beyond the USD limit of ±{10**15}" in text
