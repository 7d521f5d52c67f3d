"""Staff Tasks about a service that no operation waits on (procurement and assembly of a
dedicated server, issue 18): opened once per service and title, listed with the service."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse

from billow.core import clock
from billow.services.models import Service, Task, TaskKind, TaskStatus


def open_service_task(
    *,
    service: Service,
    title: str,
    instructions: str = "",
    department: str = "",
    now: datetime | None = None,
) -> Task:
    """A Task of kind ``other`` linked to ``service`` in ``department`` (else its module
    instance's). A replay with the same title while it is open returns it."""
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
            link=reverse("admin:services_service_change", args=[service.pk]),
            created_at=moment,
        )
