"""``billow operations --run-due``: one janitor pass and every due service operation run inline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.services import runner


class Command(BaseCommand):
    help = "Service operations: --run-due runs the janitor and every due operation inline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run-due", action="store_true", help="run due operations now")
        parser.add_argument("--now", help="ISO datetime (UTC) to run as, for time travel")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["run_due"]:
            raise CommandError("nothing to do: pass --run-due")
        now = None
        if options["now"]:
            now = datetime.fromisoformat(options["now"])
            now = now if now.tzinfo else now.replace(tzinfo=UTC)
        counts = runner.run_due_operations(now=now)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v) or "nothing due"
        self.stdout.write(f"operations: {shown}")
