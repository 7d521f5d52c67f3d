"""Notifications sent when other apps announce something (they may not import this app)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billow.notifications import actions
from billow.services.signals import staff_alert


def notify_staff_of_alert(*, event: str, context: Mapping[str, Any], **_: Any) -> None:
    """``services.signals.staff_alert`` -> ``notify_staff``."""
    actions.notify_staff(event=event, context=context)


def connect() -> None:
    staff_alert.connect(notify_staff_of_alert, dispatch_uid="billow.notifications.staff_alert")
