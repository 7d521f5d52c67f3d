"""Billing changes services only through the services app's state API: every move of the run is
checked against the transition table, and renewals call the module's ``prolong``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from unittest import mock

import pytest
from django.db import transaction
from huey.contrib.djhuey import HUEY

from billow.billing.actions import renew_service
from billow.billing.plan import Plan, StatusChange
from billow.billing.run import RUN_ACTOR, write_plan
from billow.services.actions import Transition, apply_transitions
from billow.services.errors import InvalidTransitionError, ServiceConflictError
from billow.services.models import ModuleInstance, Service, ServiceOperation
from billow.services.modules.dummy import reset_store
from billow.services.states import ServiceStatus
from tests.billing.world import World, at, db_state

pytestmark = pytest.mark.django_db

S = ServiceStatus


@pytest.fixture
def immediate_jobs() -> Iterator[None]:
    """Operations run as soon as they are dispatched, against an empty dummy panel."""
    reset_store()
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = previous
        reset_store()


def _change(service: Service, from_status: str, to_status: str) -> StatusChange:
    return StatusChange(
        service.pk, service.client_id, service.provider_id, from_status, to_status, "test", None
    )


def test_the_billing_run_path_refuses_an_illegal_move_and_writes_nothing() -> None:
    # given an active service and a deleted one
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=5000)
    active = world.service(client, tariff, date(2025, 1, 10))
    gone = world.service(client, tariff, date(2025, 1, 10))
    Service.objects.filter(pk=gone.pk).update(status=S.DELETED)
    before = db_state()
    # when the run's write step gets a legal suspension and a move out of deleted
    plan = Plan(
        changes=[
            _change(active, S.ACTIVE, S.SUSPENDED_NONPAYMENT),
            _change(gone, S.DELETED, S.ACTIVE),
        ]
    )
    with pytest.raises(InvalidTransitionError) as refused, transaction.atomic():
        write_plan(plan, {}, {}, at(date(2025, 2, 10)), services=[])
    # then the whole set is refused with a stable code and nothing was written
    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {"service_id": gone.pk, "current": S.DELETED, "to": S.ACTIVE}
    assert db_state() == before


@pytest.mark.parametrize("to_status", [S.ORDERED, S.IN_PROGRESS, S.FAILED])
def test_a_target_no_module_operation_reaches_is_refused(to_status: str) -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    service = world.service(world.client(balance=5000), tariff, date(2025, 1, 10))
    before = db_state()
    move = Transition(service.pk, S.ACTIVE, to_status, "test")
    with pytest.raises(InvalidTransitionError), transaction.atomic():
        apply_transitions([move], actor=RUN_ACTOR, now=at(date(2025, 1, 20)))
    assert db_state() == before


def test_a_stale_from_status_is_a_conflict_and_rolls_back() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    service = world.service(world.client(balance=5000), tariff, date(2025, 1, 10))
    before = db_state()
    move = Transition(service.pk, S.SUSPENDED_BY_STAFF, S.ACTIVE, "test")
    with pytest.raises(ServiceConflictError) as refused, transaction.atomic():
        apply_transitions([move], actor=RUN_ACTOR, now=at(date(2025, 1, 20)))
    assert refused.value.code == "service_changed"
    assert db_state() == before


def test_the_run_prolongs_renewed_services_of_a_module_that_prolongs(
    immediate_jobs: None, django_capture_on_commit_callbacks: mock.Mock
) -> None:
    # given a service run by the dummy module (which prolongs) and one by the manual module
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=5000)
    dummy = ModuleInstance.objects.create(module="dummy", name="dummy-prolong")
    manual = ModuleInstance.objects.create(module="manual", name="manual-prolong")
    by_dummy = world.service(client, tariff, date(2025, 1, 10), module_instance=dummy)
    by_hand = world.service(client, tariff, date(2025, 1, 10), module_instance=manual)
    # when the run renews both, and runs again the same day
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 2, 10))
        world.bill(date(2025, 2, 10))
    # then the dummy's prolong ran once for the new period and the service stayed active
    op = ServiceOperation.objects.get(service=by_dummy)
    assert (op.operation, op.status, op.idempotency_key, op.from_status) == (
        "prolong",
        "succeeded",
        f"prolong:{by_dummy.pk}:2025-03-10",
        S.ACTIVE,
    )
    assert op.payload == {"paid_until": "2025-03-10"}
    by_dummy = world.refresh(by_dummy)
    assert (by_dummy.status, by_dummy.sub_state, by_dummy.paid_until) == (
        S.ACTIVE,
        "",
        date(2025, 3, 10),
    )
    assert world.events(by_dummy)[-1] == ("service.operation_succeeded", S.ACTIVE, S.ACTIVE)
    # and the manual module, which does not prolong, got no operation (no staff task)
    assert world.refresh(by_hand).paid_until == date(2025, 3, 10)
    assert not ServiceOperation.objects.filter(service=by_hand).exists()


def test_a_manual_renewal_prolongs_once_per_period(
    immediate_jobs: None, django_capture_on_commit_callbacks: mock.Mock
) -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=5000)
    dummy = ModuleInstance.objects.create(module="dummy", name="dummy-renew")
    service = world.service(client, tariff, date(2025, 1, 10), module_instance=dummy)
    with django_capture_on_commit_callbacks(execute=True):
        renew_service(service=service, now=at(date(2025, 1, 20)))
        renew_service(service=service, now=at(date(2025, 1, 21)))
    keys = list(
        ServiceOperation.objects.filter(service=service).values_list(
            "operation", "status", "idempotency_key"
        )
    )
    assert keys == [
        ("prolong", "succeeded", f"prolong:{service.pk}:2025-03-10"),
        ("prolong", "succeeded", f"prolong:{service.pk}:2025-04-10"),
    ]
    assert world.refresh(service).status == S.ACTIVE


def test_a_prolong_that_fails_leaves_the_renewed_service_in_its_status(
    immediate_jobs: None, django_capture_on_commit_callbacks: mock.Mock
) -> None:
    # given a dummy panel that refuses every prolong
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=5000)
    dummy = ModuleInstance.objects.create(
        module="dummy", name="dummy-broken", config={"fail_mode": "always_fail"}
    )
    service = world.service(client, tariff, date(2025, 1, 10), module_instance=dummy)
    with django_capture_on_commit_callbacks(execute=True):
        renew_service(service=service, now=at(date(2025, 1, 20)))
    op = ServiceOperation.objects.get(service=service)
    assert (op.operation, op.status) == ("prolong", "failed")
    # then the service stays active (the renewal is paid) and staff get a task
    assert world.refresh(service).status == S.ACTIVE
    assert service.tasks.filter(operation=op).count() == 1
