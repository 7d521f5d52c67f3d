"""``billow reconcile``: prove the ledger's invariants; exit non-zero listing every mismatch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.core.money import balance_limit_minor
from billow.ledger.selectors import ReconcileReport, get_reconcile_report


class Command(BaseCommand):
    help = (
        "Check that every ledger transaction sums to zero per currency and every cached balance "
        "equals the sum of its entries and stays within its currency's limit. Exits 1 and lists "
        "the mismatches when not (it reports, never crashes, on rows past the 64-bit range)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=50, help="list at most this many mismatches per check"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = get_reconcile_report()
        self.stdout.write(
            f"Checked {report.transactions} transactions, {report.entries} entries, "
            f"{report.accounts} accounts."
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS("Ledger reconciled: no mismatches."))
            return
        self._list(report, options["limit"])
        raise CommandError(f"ledger does not reconcile: {self._count(report)} mismatches")

    @staticmethod
    def _count(report: ReconcileReport) -> int:
        return (
            len(report.unbalanced)
            + len(report.empty)
            + len(report.balance_mismatches)
            + len(report.currency_mismatches)
            + len(report.orphans)
            + len(report.beyond_limit)
        )

    def _list(self, report: ReconcileReport, limit: int) -> None:
        err = self.stderr
        for txn_id, currency, total in report.unbalanced[:limit]:
            err.write(f"unbalanced transaction {txn_id}: {currency} entries sum to {total}")
        for txn_id in report.empty[:limit]:
            err.write(f"transaction {txn_id} has no entries")
        for account_id, cached, total in report.balance_mismatches[:limit]:
            err.write(
                f"account {account_id}: cached balance {cached} != sum of entries {total} "
                f"(off by {cached - total})"
            )
        for entry_id in report.currency_mismatches[:limit]:
            err.write(f"entry {entry_id}: currency differs from its account's")
        for entry_id in report.orphans[:limit]:
            err.write(f"entry {entry_id}: its transaction or account does not exist")
        for account_id, currency, balance in report.beyond_limit[:limit]:
            err.write(
                f"account {account_id}: balance {balance} is beyond the {currency} limit "
                f"of ±{balance_limit_minor(currency)}"
            )
