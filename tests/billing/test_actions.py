"""Billing actions: opening charges, manual renewal, deletion with refund, module operations."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest

from billow.billing.actions import charge_opening, delete_service, renew_service
from billow.billing.models import Expense
from billow.ledger.models import LedgerTransaction
from billow.ledger.selectors import get_reconcile_report
from billow.services.models import ModuleInstance, Service, ServiceOperation
from billow.services.states import ServiceStatus
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_opening_charge_adds_the_setup_fee_and_is_idempotent() -> None:
    # given a 10.00 tariff with a 5.00 setup fee
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000}, setup_fee_minor=500)
    client = world.client(balance=5000)
    service = world.service(client, tariff, date(2025, 1, 31), charge=False)
    # when the opening is charged twice
    first = charge_opening(service=service, start=date(2025, 1, 31), now=at(date(2025, 1, 31)))
    again = charge_opening(service=service, start=date(2025, 1, 31), now=at(date(2025, 1, 31)))
    # then one expense of 15.00 keyed by the period start, posted once
    assert again.pk == first.pk
    assert (first.amount_minor, first.key) == (1500, f"charge:{service.pk}:2025-01-31")
    assert LedgerTransaction.objects.filter(idempotency_key=first.key).count() == 1
    assert first.transaction_id is not None
    service.refresh_from_db()
    assert (service.paid_until, service.anchor_day) == (date(2025, 2, 28), 31)
    assert world.balance(client) == 3500


def test_special_price_overrides_the_tariff() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=5000)
    service = world.service(client, tariff, date(2025, 1, 1), special_price_minor=700)
    world.bill(date(2025, 2, 1))
    assert [e[3] for e in world.expenses(service)] == [700, 700]


def test_a_free_service_is_renewed_without_a_ledger_posting() -> None:
    world = World()
    tariff = world.tariff("Free", {"1m": 0})
    client = world.client()
    service = world.service(client, tariff, date(2025, 1, 1))
    world.bill(date(2025, 2, 1))
    expenses = list(Expense.objects.filter(service=service))
    assert [e.amount_minor for e in expenses] == [0, 0]
    assert all(e.transaction_id is None for e in expenses)
    assert world.refresh(service).paid_until == date(2025, 3, 1)


def test_manual_renewal_resumes_a_service_suspended_for_non_payment() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 1, 10), auto_renew="")
    world.bill(date(2025, 2, 10))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    world.topup(client, 1000)
    expense = renew_service(service=service, now=at(date(2025, 2, 12)))
    assert (expense.period_from, expense.period_to) == (date(2025, 2, 10), date(2025, 3, 10))
    assert world.refresh(service).status == ServiceStatus.ACTIVE


def test_delete_now_with_refund_of_the_unused_part() -> None:
    # given a 30.00 service opened 1 April
    world = World()
    tariff = world.tariff("VPS", {"1m": 3000})
    client = world.client(balance=5000)
    service = world.service(client, tariff, date(2025, 4, 1))
    # when the client deletes it on 21 April with a refund (10 of 30 days unused)
    service = delete_service(service=service, when="now", refund=True, now=at(date(2025, 4, 21)))
    # then 10.00 comes back and the service is deleted
    assert service.status == ServiceStatus.DELETED
    assert service.paid_until == date(2025, 4, 21)
    assert world.expenses(service)[-1] == ("refund", date(2025, 4, 21), date(2025, 5, 1), 1000)
    assert world.balance(client) == 3000
    assert get_reconcile_report().ok


def test_delete_at_period_end_is_scheduled_and_done_by_the_run() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 3000})
    client = world.client(balance=10_000)
    service = world.service(client, tariff, date(2025, 4, 1))
    service = delete_service(service=service, when="period_end", now=at(date(2025, 4, 21)))
    assert service.delete_at_period_end and service.status == ServiceStatus.ACTIVE
    world.bill(date(2025, 5, 1))
    assert world.refresh(service).status == ServiceStatus.DELETED
    assert world.balance(client) == 7000


def test_services_with_a_module_get_queued_operations_dispatched_after_commit(
    django_capture_on_commit_callbacks: mock.Mock,
) -> None:
    # given an unpaid renewal of a service run by a processing module
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    module = ModuleInstance.objects.create(module="dummy", name="dummy-1")
    service = world.service(client, tariff, date(2025, 1, 10), module_instance=module)
    # when the run suspends it
    with (
        mock.patch("billow.services.actions.state.dispatch_operations") as dispatch,
        mock.patch("billow.notifications.actions.notify_clients_bulk") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        world.bill(date(2025, 2, 10))
    # then it is in progress (suspend) with one queued operation, dispatched after commit
    service = world.refresh(service)
    assert (service.status, service.sub_state) == (ServiceStatus.IN_PROGRESS, "suspend")
    op = ServiceOperation.objects.get(service=service)
    assert (op.operation, op.status, op.idempotency_key) == (
        "suspend",
        "queued",
        f"suspend:{service.pk}:2025-02-10",
    )
    assert op.payload == {"target_status": "suspended_nonpayment", "reason": "non_payment"}
    dispatch.assert_called_once_with([op.pk])
    events = {call.kwargs["event"] for call in notify.call_args_list}
    assert "service_suspended" in events


def test_side_effects_that_fail_are_logged_not_raised(
    django_capture_on_commit_callbacks: mock.Mock, caplog: pytest.LogCaptureFixture
) -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    module = ModuleInstance.objects.create(module="dummy", name="dummy-2")
    world.service(client, tariff, date(2025, 1, 10), module_instance=module)
    with (
        mock.patch(
            "billow.services.actions.state.dispatch_operations", side_effect=NotImplementedError
        ),
        mock.patch(
            "billow.notifications.actions.notify_clients_bulk", side_effect=RuntimeError("smtp")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = world.bill(date(2025, 2, 10))
    assert run.report["suspended"] == 1
    assert "dispatch_operations is not implemented yet" in caplog.text
    assert Service.objects.get(client=client).status == ServiceStatus.IN_PROGRESS


def test_renewal_notice_and_low_balance_notice(
    django_capture_on_commit_callbacks: mock.Mock,
) -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1500)
    service = world.service(client, tariff, date(2025, 1, 10))
    with (
        mock.patch("billow.notifications.actions.notify_clients_bulk") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = world.bill(date(2025, 2, 7))  # 3 days before the renewal
    sent = {c.kwargs["event"]: c.kwargs["items"] for c in notify.call_args_list}
    assert sent["renewal_coming"] == [
        (
            client.pk,
            world.provider.pk,
            {
                "service_id": service.pk,
                "renews_on": "2025-02-10",
                "amount_minor": 1000,
                "currency": "USD",
            },
            f"renewal_coming:{service.pk}:2025-02-10",
        ),
    ]
    assert sent["low_balance"][0][2] == {
        "currency": "USD",
        "available_minor": 500,
        "needed_minor": 1000,
    }
    assert run.report["notices"] == 2
