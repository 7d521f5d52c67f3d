"""Staff Tasks about a service that no operation waits on (procurement and assembly of a
dedicated server, issue 18): opened once per service and title, listed with the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.urls import reverse

from billow.core import clock
from billow.services.errors import ServiceConflictError
from billow.services.models import Service, Task, TaskKind, TaskStatus

#: Apps whose Tasks carry work outside services (e.g. the inventory's procurement and assembly)
#: register a claim here: given a Task, the page where staff close it, or None.
_task_owners: list[Callable[[Task], str | None]] = []


class TaskOwnedElsewhere(ServiceConflictError):
    """A Task whose closing does more than the generic Task admin can (assembling a dedicated
    server from stock): staff close it on its owner's page (``details["page"]``)."""

    code = "task_owned_elsewhere"


def register_task_owner(claim: Callable[[Task], str | None]) -> None:
    """``claim(task)`` returns the page where ``task`` is closed when its app owns it."""
    if claim not in _task_owners:
        _task_owners.append(claim)


def task_owner_page(task: Task) -> str | None:
    for claim in _task_owners:
        page = claim(task)
        if page:
            return page
    return None


def refuse_if_owned_elsewhere(task: Task) -> None:
    page = task_owner_page(task)
    if page:
        raise TaskOwnedElsewhere(
            f"close this task on {page}: it also changes the stock there",
            page=page,
        )


def open_service_task(
    *,
    service: Service,
    title: str,
    instructions: str = "",
    department: str = "",
    link: str = "",
    now: datetime | None = None,
) -> Task:
    """A Task of kind ``other`` linked to ``service`` in ``department`` (else its module
    instance's), pointing to ``link`` (else the service's admin page). A replay with the same
    title while it is open returns it."""
    moment = clock.now(now)
    with transaction.atomic():
        existing = Task.objects.filter(
            service=service, title=title[:300], status=TaskStatus.OPEN
        ).first()
        if existing is not None:
            return existing
        instance = service.module_instance
        return Task.objects.create(
            department=department or (instance.department if instance else "") or "support",
            kind=TaskKind.OTHER,
            title=title[:300],
            instructions=instructions,
            service=service,
            link=(link or reverse("admin:services_service_change", args=[service.pk]))[:300],
            created_at=moment,
        )
