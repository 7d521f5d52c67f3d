"""``billow send_pending_email``: send every queued outbox email now, inline (no job queue)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billow.core.errors import RetryableError
from billow.notifications.actions import send_outbound_email
from billow.notifications.models import EmailStatus
from billow.notifications.selectors import list_pending_email_ids


class Command(BaseCommand):
    help = "Send queued outbound emails inline; transient failures stay queued for a retry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="send at most this many")

    def handle(self, *args: Any, limit: int | None = None, **options: Any) -> None:
        counts = {"sent": 0, "failed": 0, "deferred": 0, "skipped": 0}
        for pk in list_pending_email_ids(limit=limit):
            try:
                status = send_outbound_email(outbound_id=pk)
            except RetryableError as exc:
                counts["deferred"] += 1
                self.stderr.write(f"email {pk} deferred: {exc.message}")
                continue
            outcomes: dict[str, str] = {EmailStatus.SENT: "sent", EmailStatus.FAILED: "failed"}
            key = outcomes.get(status, "skipped")
            counts[key] += 1
        self.stdout.write(
            "sent {sent}, failed {failed}, deferred {deferred}, skipped {skipped}".format(**counts)
        )
