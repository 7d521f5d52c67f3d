"""Staff service operations that move no money (issue 13.1): each one's effect, its
``staff.<operation>`` audit event (actor + reason), and a refusal that writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.template.loader import render_to_string

from billow.accounts.models import Client
from billow.catalog import actions as catalog
from billow.catalog.models import ProductType, Tariff
from billow.core.actors import Actor, ActorKind
from billow.core.errors import BillowError
from billow.services import actions, selectors
from billow.services.models import ModuleInstance, Service, ServiceEvent, ServiceOperation
from billow.services.modules.dummy import store
from billow.services.states import ServiceStatus
from tests.services.conftest import T0, services_counts, snapshot

pytestmark = pytest.mark.django_db
S = ServiceStatus
STAFF = Actor(ActorKind.STAFF, "7", "boss")
TODAY = T0.date()


def state() -> dict[str, Any]:
    """Every services table's row count and every service's every field."""
    return {
        "counts": services_counts(),
        "services": [snapshot(s) for s in Service.objects.order_by("id")],
    }


def refused(code: str, call: Callable[[], Any]) -> None:
    before = state()
    with pytest.raises(BillowError) as info:
        call()
    assert info.value.code == code
    assert state() == before


def staff_event(service: Service, operation: str) -> ServiceEvent:
    (event,) = ServiceEvent.objects.filter(service=service, type=f"staff.{operation}")
    assert (event.actor_kind, event.actor_id) == ("staff", "7")
    return event


def opened(service: Service, capture: Any) -> Service:
    """Open ``service`` on the dummy panel (the job runs on commit)."""
    with capture(execute=True):
        actions.request_operation(service=service, operation="open", actor=STAFF)
    service.refresh_from_db()
    assert service.status == S.ACTIVE
    return service


def new(client: Client, tariff: Tariff, **fields: Any) -> actions.NewService:
    return actions.NewService(client=client, tariff=tariff, period="1m", currency="USD", **fields)


# -- create -------------------------------------------------------------------------------------


def test_create_by_hand_without_the_module_is_active_paid_until_the_date(
    client: Client, tariff: Tariff
) -> None:
    svc = actions.create_service_by_staff(
        new=new(client, tariff, addon_values={"cpu": 2}, paid_until=date(2027, 4, 15)),
        actor=STAFF,
        reason="moved from the old panel",
    )
    svc.refresh_from_db()
    assert (svc.status, svc.paid_until, svc.anchor_day, svc.addon_values, svc.opened_at) == (
        S.ACTIVE,
        date(2027, 4, 15),
        15,
        {"cpu": 2},
        T0,
    )
    assert ServiceOperation.objects.filter(service=svc).count() == 0
    event = staff_event(svc, "create")
    assert event.data == {
        "reason": "moved from the old panel",
        "open_in_module": False,
        "paid_until": "2027-04-15",
    }
    assert list(
        ServiceEvent.objects.filter(service=svc).values_list("type", "from_status", "to_status")
    ) == [
        ("service.ordered", "", "ordered"),
        ("service.status_changed", "ordered", "in_progress"),
        ("service.status_changed", "in_progress", "active"),
        ("staff.create", "active", "active"),
    ]


def test_create_and_open_in_the_module(
    client: Client, tariff: Tariff, dummy: ModuleInstance, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        svc = actions.create_service_by_staff(
            new=new(client, tariff, parameters={"os": "debian-12"}, open_in_module=True),
            actor=STAFF,
            reason="sold by phone",
        )
    svc.refresh_from_db()
    assert (svc.status, svc.paid_until, svc.module_instance_id) == (S.ACTIVE, TODAY, dummy.pk)
    assert svc.external_id and svc.external_id in store(dummy.pk).objects
    assert staff_event(svc, "create").data["open_in_module"] is True


def test_create_refusals_write_nothing(client: Client, tariff: Tariff) -> None:
    refused(
        "reason_required",
        lambda: actions.create_service_by_staff(new=new(client, tariff), actor=STAFF, reason=" "),
    )
    refused(
        "no_module_instance",  # the service row was written before this check: rolled back
        lambda: actions.create_service_by_staff(
            new=new(client, tariff, open_in_module=True), actor=STAFF, reason="r"
        ),
    )
    refused(
        "paid_until_in_past",
        lambda: actions.create_service_by_staff(
            new=new(client, tariff, paid_until=date(2027, 2, 1)), actor=STAFF, reason="r"
        ),
    )
    refused(
        "addon_value_out_of_range",
        lambda: actions.create_service_by_staff(
            new=new(client, tariff, addon_values={"cpu": 99}), actor=STAFF, reason="r"
        ),
    )


# -- paid-until, special price ------------------------------------------------------------------


def test_set_paid_until(service: Service) -> None:
    actions.set_service_paid_until_by_staff(
        service=service, paid_until=date(2027, 6, 1), actor=STAFF, reason="goodwill"
    )
    service.refresh_from_db()
    assert service.paid_until == date(2027, 6, 1)
    assert staff_event(service, "set_paid_until").data == {
        "reason": "goodwill",
        "paid_until_before": None,
        "paid_until": "2027-06-01",
        "charged": False,
    }
    refused(
        "nothing_to_change",
        lambda: actions.set_service_paid_until_by_staff(
            service=service, paid_until=date(2027, 6, 1), actor=STAFF, reason="again"
        ),
    )
    refused(
        "reason_required",
        lambda: actions.set_service_paid_until_by_staff(
            service=service, paid_until=date(2027, 7, 1), actor=STAFF, reason=""
        ),
    )


def test_set_and_clear_special_price(service: Service) -> None:
    actions.set_service_special_price(
        service=service, amount_minor=399, actor=STAFF, reason="loyal"
    )
    service.refresh_from_db()
    assert service.special_price_minor == 399
    assert staff_event(service, "set_special_price").data == {
        "reason": "loyal",
        "special_price_before": None,
        "special_price_minor": 399,
        "currency": "USD",
    }
    refused(
        "invalid_amount",
        lambda: actions.set_service_special_price(
            service=service, amount_minor=-1, actor=STAFF, reason="r"
        ),
    )
    refused(
        "nothing_to_change",
        lambda: actions.set_service_special_price(
            service=service, amount_minor=399, actor=STAFF, reason="r"
        ),
    )
    actions.set_service_special_price(
        service=service, amount_minor=None, actor=STAFF, reason="promo over"
    )
    service.refresh_from_db()
    assert service.special_price_minor is None
    assert staff_event(service, "clear_special_price").data["special_price_before"] == 399


# -- plan without charge ------------------------------------------------------------------------


def test_change_addons_without_charge_may_decrease_what_clients_may_not(
    service: Service, django_capture_on_commit_callbacks: Any
) -> None:
    svc = opened(service, django_capture_on_commit_callbacks)
    actions.set_service_special_price(service=svc, amount_minor=100, actor=STAFF, reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        actions.change_plan_by_staff(
            service=svc, addon_values={"cpu": 1, "disk": 40}, actor=STAFF, reason="downsized"
        )
    svc.refresh_from_db()
    assert (svc.addon_values, svc.special_price_minor, svc.status) == (
        {"cpu": 1, "disk": 40},
        100,
        S.ACTIVE,
    )
    assert staff_event(svc, "change_plan").data == {
        "reason": "downsized",
        "before": {"tariff_id": svc.tariff_id, "addon_values": {"cpu": 2}},
        "tariff_id": svc.tariff_id,
        "addon_values": {"cpu": 1, "disk": 40},
        "charged": False,
    }
    set_param = ServiceOperation.objects.get(service=svc, operation="set_param")
    assert set_param.status == "succeeded"


def test_change_tariff_without_charge_drops_the_special_price(
    service: Service, tariff: Tariff, vps_type: ProductType
) -> None:
    bigger = catalog.create_tariff(provider_id=tariff.provider_id, product_type=vps_type, name="L")
    catalog.set_tariff_price(tariff=bigger, period="1m", currency="USD", amount_minor=900)
    actions.set_service_special_price(service=service, amount_minor=100, actor=STAFF, reason="x")
    actions.change_plan_by_staff(service=service, tariff=bigger, actor=STAFF, reason="moved up")
    service.refresh_from_db()
    assert (service.tariff_id, service.special_price_minor, service.addon_values) == (
        bigger.pk,
        None,
        {},  # the new tariff has no CPU addon: nothing carried over
    )
    assert staff_event(service, "change_plan").data["tariff_id"] == bigger.pk


def test_change_plan_refusals_write_nothing(
    service: Service, tariff: Tariff, other_provider: Any, vps_type: ProductType
) -> None:
    foreign = catalog.create_tariff(provider_id=other_provider.pk, product_type=vps_type, name="F")
    catalog.set_tariff_price(tariff=foreign, period="1m", currency="USD", amount_minor=900)
    refused(
        "tariff_incompatible",
        lambda: actions.change_plan_by_staff(
            service=service, tariff=foreign, actor=STAFF, reason="r"
        ),
    )
    refused(
        "nothing_to_change",
        lambda: actions.change_plan_by_staff(
            service=service, addon_values={"cpu": 2}, actor=STAFF, reason="r"
        ),
    )
    refused(
        "addon_step_mismatch",
        lambda: actions.change_plan_by_staff(
            service=service, addon_values={"disk": 25}, actor=STAFF, reason="r"
        ),
    )


# -- suspend, resume ----------------------------------------------------------------------------


def test_suspend_for_abuse_through_the_module_and_resume(
    service: Service, django_capture_on_commit_callbacks: Any
) -> None:
    svc = opened(service, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        actions.suspend_service_by_staff(
            service=svc, reason="spam from this VM", abuse=True, actor=STAFF
        )
    svc.refresh_from_db()
    assert svc.status == S.SUSPENDED_ABUSE
    assert store(svc.module_instance_id).objects[svc.external_id]["state"] == "suspended"
    assert staff_event(svc, "suspend").data == {
        "reason": "spam from this VM",
        "target_status": "suspended_abuse",
        "client_visible": True,
    }
    assert selectors.get_suspension_notice(svc) == "spam from this VM"
    refused(
        "invalid_suspend_status",
        lambda: actions.suspend_service_by_staff(
            service=svc, reason="again", abuse=True, actor=STAFF
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.resume_service_by_staff(service=svc, reason="cleaned up", actor=STAFF)
    svc.refresh_from_db()
    assert (svc.status, svc.suspended_at) == (S.ACTIVE, None)
    assert staff_event(svc, "resume").data == {"reason": "cleaned up"}
    assert selectors.get_suspension_notice(svc) == ""
    refused(
        "operation_not_allowed",
        lambda: actions.resume_service_by_staff(service=svc, reason="r", actor=STAFF),
    )


def test_suspend_without_a_module_moves_at_once(client: Client, tariff: Tariff) -> None:
    svc = actions.create_service_by_staff(new=new(client, tariff), actor=STAFF, reason="by hand")
    actions.suspend_service_by_staff(service=svc, reason="unpaid contract", actor=STAFF)
    svc.refresh_from_db()
    assert (svc.status, svc.suspended_at) == (S.SUSPENDED_BY_STAFF, T0)
    assert staff_event(svc, "suspend").data["target_status"] == "suspended_staff"
    refused(
        "reason_required",
        lambda: actions.suspend_service_by_staff(service=svc, reason="", abuse=True, actor=STAFF),
    )


def test_suspend_refused_for_a_service_not_opened(service: Service) -> None:
    refused(
        "operation_not_allowed",
        lambda: actions.suspend_service_by_staff(service=service, reason="r", actor=STAFF),
    )


# -- re-run, attach -----------------------------------------------------------------------------


def test_rerun_the_failed_operation(
    service: Service, django_capture_on_commit_callbacks: Any
) -> None:
    refused(
        "no_failed_operation",
        lambda: actions.rerun_failed_operation(service=service, reason="r", actor=STAFF),
    )
    op = actions.request_operation(service=service, operation="open", actor=STAFF)
    actions.fail_operation(operation=op, code="panel_down", message="down", actor=None)
    service.refresh_from_db()
    assert service.status == S.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        actions.rerun_failed_operation(service=service, reason="panel is back", actor=STAFF)
    service.refresh_from_db()
    op.refresh_from_db()
    assert (service.status, op.status) == (S.ACTIVE, "succeeded")
    assert staff_event(service, "rerun").data == {
        "reason": "panel is back",
        "operation_id": op.pk,
        "module_operation": "open",
    }


def test_attach_an_existing_remote_object(
    service: Service, client: Client, tariff: Tariff, dummy: ModuleInstance
) -> None:
    actions.attach_remote_object(
        service=service, external_id=" vm-42 ", actor=STAFF, reason="made by hand"
    )
    service.refresh_from_db()
    assert (service.external_id, service.module_instance_id, service.status) == (
        "vm-42",
        dummy.pk,
        S.ORDERED,
    )
    assert staff_event(service, "attach").data == {
        "reason": "made by hand",
        "before": {"external_id": "", "module_instance_id": dummy.pk},
        "external_id": "vm-42",
        "module_instance_id": dummy.pk,
    }
    other = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    refused(
        "remote_object_linked",
        lambda: actions.attach_remote_object(
            service=other, external_id="vm-42", actor=STAFF, reason="r"
        ),
    )
    refused(
        "invalid_external_id",
        lambda: actions.attach_remote_object(
            service=other, external_id=" ", actor=STAFF, reason="r"
        ),
    )
    refused(
        "nothing_to_change",
        lambda: actions.attach_remote_object(
            service=service, external_id="vm-42", actor=STAFF, reason="r"
        ),
    )


def test_a_deleted_service_refuses_every_operation(client: Client, tariff: Tariff) -> None:
    svc = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    actions.transition_service(service=svc, to=S.DELETED, actor=STAFF)
    calls: list[Callable[[], Any]] = [
        lambda: actions.set_service_paid_until_by_staff(
            service=svc, paid_until=date(2028, 1, 1), actor=STAFF, reason="r"
        ),
        lambda: actions.set_service_special_price(
            service=svc, amount_minor=1, actor=STAFF, reason="r"
        ),
        lambda: actions.change_plan_by_staff(
            service=svc, addon_values={"cpu": 3}, actor=STAFF, reason="r"
        ),
        lambda: actions.suspend_service_by_staff(service=svc, reason="r", actor=STAFF),
        lambda: actions.resume_service_by_staff(service=svc, reason="r", actor=STAFF),
        lambda: actions.rerun_failed_operation(service=svc, reason="r", actor=STAFF),
        lambda: actions.attach_remote_object(service=svc, external_id="x", actor=STAFF, reason="r"),
    ]
    for call in calls:
        refused("service_deleted", call)


def test_the_client_sees_why_staff_suspended_the_service(client: Client, tariff: Tariff) -> None:
    svc = actions.create_service_by_staff(new=new(client, tariff), actor=STAFF, reason="by hand")
    assert render_to_string("web/services/_suspension_notice.html", {"s": svc}).strip() == ""
    actions.suspend_service_by_staff(service=svc, reason="spam <b>from</b> here", actor=STAFF)
    svc.refresh_from_db()
    html = render_to_string("web/services/_suspension_notice.html", {"s": svc})
    assert "Suspended by the provider:</strong> spam &lt;b&gt;from&lt;/b&gt; here</p>" in html
