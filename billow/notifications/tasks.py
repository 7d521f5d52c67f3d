"""Jobs of the notifications app (thin: load by id, call one action)."""

from __future__ import annotations

from billow.jobs import job
from billow.notifications import actions

_P = actions.EMAIL_RETRY


@job(retries=_P.max_retries, base_delay=_P.base_delay, factor=_P.factor, max_delay=_P.max_delay)
def send_email(outbound_id: int) -> str:
    """Send one outbox row; ``RetryableError`` on a transient SMTP failure (retried)."""
    return actions.send_outbound_email(outbound_id=outbound_id)


@job
def requeue_stuck_emails() -> int:
    """Janitor (periodic): re-enqueue queued rows whose job was lost."""
    return actions.requeue_stuck_emails()
