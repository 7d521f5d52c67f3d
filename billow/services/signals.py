"""What the services app announces to the apps above it, so it imports none of them.

``staff_alert`` is sent after commit when staff must act (an operation failed for good and a
Task was opened), with ``event`` (a staff notification event) and ``context``. The
notifications app connects its ``notify_staff`` in ``NotificationsConfig.ready``; a receiver
that raises is logged and never undoes the committed change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger("billow.services")

staff_alert = Signal()


def alert_staff_on_commit(event: str, context: Mapping[str, Any]) -> None:
    """Send ``staff_alert`` once the caller's transaction commits."""

    def send() -> None:
        for receiver, result in staff_alert.send_robust(
            sender=None, event=event, context=dict(context)
        ):
            if isinstance(result, Exception):
                logger.error("staff alert %s failed in %r", event, receiver, exc_info=result)

    transaction.on_commit(send, robust=True)
