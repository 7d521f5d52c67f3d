"""Discovery: the pure comparison, and the flow on the dummy module (any module with
``discover``): drift found, adopt, mark system, rerun with zero drift; refusals change nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.catalog.models import Tariff
from billow.services import actions, discovery, runner
from billow.services.discovery import (
    SERVICE_WITHOUT_VM,
    SYSTEM,
    VM_WITHOUT_SERVICE,
    DiscoveryRow,
    ServiceRef,
    compare,
)
from billow.services.errors import ServiceConflictError, ServiceValidationError
from billow.services.models import ModuleInstance, Service, SystemMark
from billow.services.modules.dummy import store
from billow.services.states import ServiceStatus

from .conftest import T0, services_counts


def test_compare_links_by_external_id_or_metadata_and_lists_the_rest() -> None:
    services = [
        ServiceRef(1, "vm-a", "active"),
        ServiceRef(2, "", "active"),
        ServiceRef(3, "vm-gone", "suspended_staff", "lost"),
    ]
    objects = [
        {"external_id": "vm-a", "name": "a"},
        {"external_id": "vm-b", "name": "b", "service_id": 2},  # linked by its metadata
        {"external_id": "vm-c", "name": "c", "service_id": 99},  # its service is gone
        {"external_id": "vm-d", "name": "d"},
        {"external_id": "vm-sys", "name": "router"},
        {"external_id": "vm-e", "name": "e", "system": True},
    ]
    rows, linked = compare(objects, services, frozenset({"vm-sys"}))
    assert linked == 2
    assert rows == [
        DiscoveryRow(
            VM_WITHOUT_SERVICE, "vm-c", "c", "", None, "metadata names service #99, which is gone"
        ),
        DiscoveryRow(VM_WITHOUT_SERVICE, "vm-d", "d"),
        DiscoveryRow(SYSTEM, "vm-sys", "router"),
        DiscoveryRow(SYSTEM, "vm-e", "e"),
        DiscoveryRow(SERVICE_WITHOUT_VM, "vm-gone", "lost", "", 3, "service is suspended_staff"),
    ]


def test_an_old_vm_naming_a_service_that_points_elsewhere_is_drift() -> None:
    rows, linked = compare(
        [{"external_id": "new"}, {"external_id": "old", "service_id": 1}],
        [ServiceRef(1, "new", "active")],
    )
    assert linked == 1
    assert [(r.kind, r.external_id) for r in rows] == [(VM_WITHOUT_SERVICE, "old")]


@pytest.fixture
def opened(service: Service) -> Service:
    op = actions.request_operation(service=service, operation="open")
    runner.execute_operation(operation_id=op.pk)
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    return service


def hand_made(dummy: ModuleInstance, external_id: str) -> None:
    store(dummy.pk).objects[external_id] = {
        "external_id": external_id,
        "state": "running",
        "service_id": None,
        "name": external_id,
    }


@pytest.mark.django_db
def test_dummy_drift_adopt_mark_and_zero_drift(
    opened: Service, dummy: ModuleInstance, client: Client, tariff: Tariff, service: Service
) -> None:
    # given a VM made by hand, a system VM, and a service whose VM was deleted by hand
    hand_made(dummy, "hand-1")
    hand_made(dummy, "router")
    other = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    runner.execute_operation(
        operation_id=actions.request_operation(service=other, operation="open").pk
    )
    other.refresh_from_db()
    del store(dummy.pk).objects[other.external_id]
    report = discovery.run_discovery(instance=dummy)
    assert report.counts() == {VM_WITHOUT_SERVICE: 2, SERVICE_WITHOUT_VM: 1, SYSTEM: 0}
    assert report.linked_count == 1
    # when staff adopt one and mark the other as system
    adopted = discovery.adopt_remote_object(
        instance=dummy,
        external_id="hand-1",
        client=client,
        tariff=tariff,
        period="1m",
        currency="USD",
        addon_values={"cpu": 2},
        parameters={"os": "debian-12"},
    )
    discovery.mark_system(instance=dummy, external_id="router", name="router")
    # then the adopted service is active, linked, billed from today, with an audit trail
    assert (adopted.status, adopted.external_id, adopted.paid_until) == (
        ServiceStatus.ACTIVE,
        "hand-1",
        date(2027, 3, 1),
    )
    assert adopted.opened_at == T0
    assert list(adopted.events.values_list("type", flat=True)) == [
        "service.ordered",
        "service.status_changed",
        "service.status_changed",
        "service.adopted",
    ]
    assert adopted.operations.count() == 0  # the dummy has no "link": nothing provisioned
    # and recreate is refused for a module that cannot do it, changing nothing
    before = services_counts()
    with pytest.raises(ServiceValidationError) as err:
        discovery.recreate_service_vm(service=other)
    assert err.value.code == "recreate_unsupported"
    assert services_counts() == before
    report = discovery.run_discovery(instance=dummy)
    assert report.counts() == {VM_WITHOUT_SERVICE: 0, SERVICE_WITHOUT_VM: 1, SYSTEM: 1}


@pytest.mark.django_db
def test_adopt_refusals_change_nothing(
    opened: Service, dummy: ModuleInstance, client: Client, tariff: Tariff
) -> None:
    hand_made(dummy, "router")
    discovery.mark_system(instance=dummy, external_id="router")
    before = services_counts()
    kwargs: dict[str, Any] = {
        "instance": dummy,
        "client": client,
        "tariff": tariff,
        "period": "1m",
        "currency": "USD",
    }
    cases = [
        ("nope", "remote_object_not_found"),
        (opened.external_id, "remote_object_linked"),
        ("router", "remote_object_system"),
    ]
    for external_id, code in cases:
        with pytest.raises((ServiceValidationError, ServiceConflictError)) as err:
            discovery.adopt_remote_object(external_id=external_id, **kwargs)
        assert err.value.code == code
    with pytest.raises(ServiceConflictError):
        discovery.mark_system(instance=dummy, external_id=opened.external_id)
    assert services_counts() == before


@pytest.mark.django_db
def test_mark_system_is_idempotent_and_can_be_undone(dummy: ModuleInstance) -> None:
    first = discovery.mark_system(instance=dummy, external_id="x", name="gw")
    again = discovery.mark_system(instance=dummy, external_id="x", name="other")
    assert first.pk == again.pk and SystemMark.objects.count() == 1
    assert discovery.unmark_system(instance=dummy, external_id="x") == 1
    assert SystemMark.objects.count() == 0
