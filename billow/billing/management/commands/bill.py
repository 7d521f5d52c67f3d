"""``billow bill [--date YYYY-MM-DD]``: run (or resume) the billing run of a date, inline."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.billing.run import run_billing
from billow.core import clock


class Command(BaseCommand):
    help = (
        "Renew, suspend, resume and delete services due on a date (default: today), chunk by "
        "chunk. Resumes an unfinished run of the same date; safe to rerun."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="billing date, YYYY-MM-DD (default: today, UTC)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else clock.today()
        except ValueError as exc:
            raise CommandError(f"bad --date: {exc}") from exc
        verbose = options["verbosity"] > 1

        def progress(chunk_id: int, report: dict[str, Any]) -> None:
            if verbose:
                self.stdout.write(f"chunk {chunk_id}: {report['renewed']} renewed")

        run = run_billing(day=day, on_chunk=progress)
        if options["json"]:
            self.stdout.write(json.dumps({"run": run.pk, **run.report}, sort_keys=True))
            return
        r = run.report
        amounts = ", ".join(f"{v} {k}" for k, v in r.get("amounts", {}).items()) or "nothing"
        self.stdout.write(
            f"Billing run {run.pk} for {day}: {r.get('renewed', 0)} renewed, "
            f"{r.get('suspended', 0)} suspended, {r.get('resumed', 0)} resumed, "
            f"{r.get('deleted', 0)} deleted, {r.get('deferred', 0)} deferred, "
            f"{r.get('failed', 0)} failed, {r.get('notices', 0)} notices; charged {amounts} "
            f"(minor units) in {run.chunks_total} chunks."
        )
