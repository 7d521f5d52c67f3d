"""Set-based writes shared by the billing run and the billing actions: service status changes
through the services app's ``apply_transitions`` (billing writes no service row itself) and the
clients' notices, sent on commit (a failure is logged)."""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.billing.plan import Notice, StatusChange
from billow.core.actors import Actor
from billow.services.actions import apply_transitions
from billow.services.models import ServiceOperation
from billow.services.states import SUSPENDED, ServiceStatus

logger = logging.getLogger("billow.billing")

RUN_ACTOR = Actor.job("billing_run")

_EVENT: dict[str, str] = {
    ServiceStatus.ACTIVE: "service_resumed",
    ServiceStatus.DELETED: "service_deleted",
}


# -- status changes ---------------------------------------------------------------------------


def apply_status_changes(
    changes: Sequence[StatusChange], *, now: datetime, actor: Any
) -> list[ServiceOperation]:
    """Apply status changes through the services app (``apply_transitions``: every move checked
    against the transition table, events and module operations written there) and notify the
    clients after commit. Returns the operations queued."""
    if not changes:
        return []
    created = apply_transitions(changes, actor=actor, now=now)
    notify_after_commit(change_notices(changes, now.date()))
    return created


def change_notices(changes: Sequence[StatusChange], day: date) -> list[Notice]:
    """The clients' notices of status changes, one per service and day."""
    out = []
    for c in changes:
        event = "service_suspended" if c.to_status in SUSPENDED else _EVENT[c.to_status]
        out.append(
            Notice(
                event,
                c.client_id,
                c.provider_id,
                {"service_id": c.service_id, "reason": c.reason},
                f"{event}:{c.service_id}:{day.isoformat()}",
            )
        )
    return out


# -- after commit -----------------------------------------------------------------------------


def _safely(what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except NotImplementedError:
        logger.warning("%s is not implemented yet; skipped", what)
    except Exception:  # a side effect must never undo committed billing; log and move on
        logger.exception("%s failed after commit", what)


def notify_after_commit(notices: Sequence[Notice]) -> None:
    """Group notices by event and call ``notify_clients_bulk`` once per event after commit."""
    if not notices:
        return
    by_event: dict[str, list[tuple[int, int | None, dict[str, Any], str]]] = defaultdict(list)
    for n in notices:
        by_event[n.event].append((n.client_id, n.provider_id, n.context, n.dedup_key))

    def send() -> None:
        from billow.notifications.actions import notify_clients_bulk

        for event, items in by_event.items():
            _safely(
                f"notify {event}", functools.partial(notify_clients_bulk, event=event, items=items)
            )

    transaction.on_commit(send)
