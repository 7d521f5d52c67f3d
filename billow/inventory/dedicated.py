"""Dedicated servers by the client's own configuration (issue 18): placing a paid service.

``place_service`` runs in the order's transaction right after the service is created:

- a free ready server of the build's configuration is reserved (exactly one order gets the
  last one: ``actions.reserve_server``) and the ``open`` operation is queued at once; the
  module takes that server (``parameters["dci_server_id"]`` when DCImanager knows it, else a
  free server of the configuration), installs the OS and records IP and credentials;
- otherwise the loose parts in stock are held for the service, it waits in "not available"
  with the expected date in its parameters, and staff get a procurement Task (the exact parts
  and quantities missing) and an assembly Task (which parts into which chassis).
  ``complete_dedicated_task`` closes one; when none is left open the server is assembled from
  the held parts, reserved for the service and provisioned.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from billow.core import clock
from billow.core.actors import Actor
from billow.inventory import actions as stock
from billow.inventory.models import ComponentModel, Location
from billow.inventory.selectors import ChosenBuild, checked, from_parameters
from billow.services import actions as services
from billow.services.models import Service, Task, TaskStatus
from billow.services.states import ServiceStatus

#: Days to buy missing parts, and to assemble and test a server (the client's expected date).
PROCUREMENT_DAYS = 10
ASSEMBLY_DAYS = 2
#: Parts are held for the service this long while procurement runs.
PARTS_HOLD = timedelta(days=30)
PROCUREMENT = "procurement"
ASSEMBLY = "assembly"


def expected_date(today: date, missing: dict[int, int]) -> date:
    return today + timedelta(days=(PROCUREMENT_DAYS if missing else 0) + ASSEMBLY_DAYS)


def tasks_page() -> str:
    """Where staff close procurement / assembly Tasks: the inventory's *Dedicated server tasks*
    (closing one there also assembles the server); each such Task links to it."""
    return reverse("admin:inventory_dedicatedtask_changelist")


def claim_task(task: Task) -> str | None:
    """The services Task owner claim (``services.register_task_owner``): the generic Task
    admin refuses to close these, pointing to ``tasks_page()``."""
    page = tasks_page()
    return page if task.service_id is not None and task.link == page else None


def task_title(kind: str, service_id: int) -> str:
    if kind == PROCUREMENT:
        return _("Buy parts for dedicated server of service #%(id)d") % {"id": service_id}
    return _("Assemble dedicated server for service #%(id)d") % {"id": service_id}


def _lines(counts: dict[int, int]) -> list[str]:
    names = dict(ComponentModel.objects.filter(pk__in=counts).values_list("pk", "name"))
    return [f"{n} x {names[pk]} (#{pk})" for pk, n in sorted(counts.items())]


def place_service(
    *,
    service: Service,
    chosen: ChosenBuild,
    location: Location,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Service:
    """Reserve and provision, or wait for procurement and assembly (see the module doc).
    ``service`` is ordered and locked by the caller (created in its transaction)."""
    moment = clock.now(now)
    checked(chosen)
    parameters = {
        **service.parameters,
        **chosen.as_parameters(),
        "location": location.code,
    }
    with transaction.atomic():
        server = stock.reserve_server(
            configuration=chosen.configuration,
            service_id=service.pk,
            location_id=location.pk,
            now=moment,
        )
        if server is not None:
            if server.dci_server_id:
                parameters["dci_server_id"] = server.dci_server_id
            services.set_parameters(service=service, parameters=parameters)
            services.request_operation(
                service=service, operation="open", key=f"dedicated:{service.pk}:open", actor=actor
            )
            return service
        missing = stock.reserve_parts(
            needs=chosen.needs(),
            service_id=service.pk,
            location_id=location.pk,
            hold=PARTS_HOLD,
            now=moment,
        )
        parameters["expected_on"] = expected_date(moment.date(), missing).isoformat()
        services.set_parameters(service=service, parameters=parameters)
        services.transition_service(
            service=service,
            to=ServiceStatus.NOT_AVAILABLE,
            actor=actor,
            reason="no ready server of this configuration",
            now=moment,
        )
        if missing:
            services.open_service_task(
                service=service,
                title=task_title(PROCUREMENT, service.pk),
                instructions="\n".join(
                    [_("Buy and receive into %(loc)s:") % {"loc": location.name}, *_lines(missing)]
                ),
                link=tasks_page(),
                now=moment,
            )
        parts = {pk: n for pk, n in chosen.needs().items() if pk != chosen.chassis.pk}
        services.open_service_task(
            service=service,
            title=task_title(ASSEMBLY, service.pk),
            instructions="\n".join(
                [
                    _("Into chassis %(chassis)s (#%(id)d) at %(loc)s, fit:")
                    % {
                        "chassis": chosen.chassis.name,
                        "id": chosen.chassis.pk,
                        "loc": location.name,
                    },
                    *_lines(parts),
                    _("Configuration name: %(name)s") % {"name": chosen.configuration},
                ]
            ),
            link=tasks_page(),
            now=moment,
        )
    return service


def open_dedicated_tasks(service: Service) -> list[Task]:
    return list(service.tasks.filter(status=TaskStatus.OPEN, link=tasks_page()).order_by("id"))


def complete_dedicated_task(
    *, task: Task, actor: Actor | None = None, now: datetime | None = None
) -> Service:
    """Staff finished a procurement or assembly Task. When none is left open, the server is
    assembled from the parts held for the service (``stock_conflict``, nothing written, when
    the bought parts were not received into stock yet), reserved for it and provisioned."""
    moment = clock.now(now)
    assert task.service_id is not None
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=task.service_id)
        services.complete_task(task=task, actor=actor, by_owner=True, now=moment)
        if open_dedicated_tasks(service) or service.status != ServiceStatus.NOT_AVAILABLE:
            return service
        chosen = from_parameters(service.parameters)
        location = Location.objects.get(code=service.parameters["location"])
        parts = {pk: n for pk, n in chosen.needs().items() if pk != chosen.chassis.pk}
        stock.assemble_server(
            location=location,
            chassis=chosen.chassis,
            parts=parts,
            configuration=chosen.configuration,
            name=f"dedicated-{service.pk}",
            service_id=service.pk,
            now=moment,
        )
        services.request_operation(
            service=service, operation="open", key=f"dedicated:{service.pk}:open", actor=actor
        )
    service.refresh_from_db()
    return service
