"""Scenario: a 7-day trial ordered at checkout converts to a paid month when the balance covers
it at the end; otherwise it is suspended and deleted after the product type's auto-delete
period. A notice goes out three days (the run's notice window) before the end."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billow.billing.actions import renew_service
from billow.catalog import actions as catalog
from billow.core.errors import BillowError
from billow.notifications.models import Notification
from billow.services.states import ServiceStatus
from tests.billing.world import World, at
from tests.scenarios.ordering import module_jobs_inline, order

__all__ = ["module_jobs_inline"]

ORDERED = date(2025, 3, 10)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("module_jobs_inline")]


def order_trial(world: World, client: Any, tariff: Any, capture: Any) -> Any:
    service = order(world, client, tariff, "trial", now=at(ORDERED, 9), capture=capture)
    assert service.status == ServiceStatus.ACTIVE
    return service


def trial_world(balance: int, capture: Any) -> tuple[World, Any, Any, Any]:
    world = World(auto_delete_days=10)
    tariff = world.tariff("VPS Start", {"1m": 1000, "12m": 10_000})
    catalog.update_tariff(tariff=tariff, trial_days=7)
    client = world.client(balance=balance)
    return world, tariff, client, order_trial(world, client, tariff, capture)


def notices(client: Any, event: str) -> list[str]:
    return list(
        Notification.objects.filter(client=client, event=event).values_list("dedup_key", flat=True)
    )


def test_a_trial_converts_to_a_paid_month_when_the_balance_covers_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a 7-day trial ordered on 10 March (runs until 17 March) and 10.00 on the balance
    world, _, client, service = trial_world(1000, django_capture_on_commit_callbacks)
    assert (service.period, service.paid_until, service.auto_renew_period) == (
        "trial",
        date(2025, 3, 17),
        "1m",
    )
    # when the daily runs pass 14 March (three days ahead) and 17 March (the end)
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 3, 13))
    assert notices(client, "trial_ending") == []
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 3, 14))
        world.bill(date(2025, 3, 15))  # the notice goes once
    assert notices(client, "trial_ending") == [f"trial_ending:{service.pk}:2025-03-17"]
    with django_capture_on_commit_callbacks(execute=True):
        run = world.bill(date(2025, 3, 17))
    # then the month 17 March - 17 April is charged (10.00), the service is a monthly one
    service = world.refresh(service)
    assert (service.status, service.period, service.paid_until) == (
        ServiceStatus.ACTIVE,
        "1m",
        date(2025, 4, 17),
    )
    assert world.expenses(service) == [
        ("charge", date(2025, 3, 10), date(2025, 3, 17), 0),
        ("charge", date(2025, 3, 17), date(2025, 4, 17), 1000),
    ]
    assert world.balance(client) == 0
    assert (run.report["renewed"], run.report["suspended"]) == (1, 0)
    assert ("service.trial_converted", "active", "active") in world.events(service)
    # and a rerun of the day charges nothing twice
    world.bill(date(2025, 3, 17))
    assert len(world.expenses(service)) == 2 and world.balance(client) == 0
    # and the next month it renews as any monthly service (no money: suspended)
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 4, 14))
    assert notices(client, "renewal_coming") == [f"renewal_coming:{service.pk}:2025-04-17"]
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 4, 17))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT


def test_a_trial_the_balance_does_not_cover_is_suspended_then_deleted(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a 7-day trial and 5.00 on the balance (the month costs 10.00)
    world, _, client, service = trial_world(500, django_capture_on_commit_callbacks)
    # when the trial ends on 17 March
    with django_capture_on_commit_callbacks(execute=True):
        run = world.bill(date(2025, 3, 17))
    # then it is suspended for non-payment (through the module), nothing charged, still a trial
    service = world.refresh(service)
    assert (service.status, service.period, service.paid_until) == (
        ServiceStatus.SUSPENDED_NONPAYMENT,
        "trial",
        date(2025, 3, 17),
    )
    assert (run.report["suspended"], run.report["renewed"]) == (1, 0)
    assert world.balance(client) == 500
    assert world.expenses(service) == [("charge", date(2025, 3, 10), date(2025, 3, 17), 0)]
    # and it is deleted after the product type's 10 days, never charged
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 3, 26))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    with django_capture_on_commit_callbacks(execute=True):
        run = world.bill(date(2025, 3, 27))
    assert world.refresh(service).status == ServiceStatus.DELETED
    assert run.report["deleted"] == 1
    assert world.balance(client) == 500
    assert len(world.expenses(service)) == 1


def test_a_trial_with_auto_renewal_off_expires(django_capture_on_commit_callbacks: Any) -> None:
    world, _, client, service = trial_world(5000, django_capture_on_commit_callbacks)
    type(service).objects.filter(pk=service.pk).update(auto_renew_period="")
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 3, 14))
        run = world.bill(date(2025, 3, 17))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert run.report["expired"] == 1
    assert world.balance(client) == 5000
    (notice,) = Notification.objects.filter(client=client, event="trial_ending")
    assert "Turn on auto-renewal" in notice.body


def test_a_calendar_trial_converts_to_the_rest_of_the_month_at_its_share(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a calendar tariff (pro-rata day 20) with a 7-day trial ending on 17 March
    world = World()
    tariff = world.tariff("VPS Cal", {"1m": 3100}, billing_mode="calendar", prorata_day=20)
    catalog.update_tariff(tariff=tariff, trial_days=7)
    client = world.client(balance=5000)
    service = order_trial(world, client, tariff, django_capture_on_commit_callbacks)
    assert service.anchor_day == 1
    # when it converts on 17 March (before the pro-rata day)
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 3, 17))
    # then 17-31 March is charged at 15/31 of 31.00 (15.00), and April is a whole month
    assert world.expenses(service)[1:] == [("charge", date(2025, 3, 17), date(2025, 4, 1), 1500)]
    world.bill(date(2025, 4, 1))
    assert world.expenses(service)[2:] == [("charge", date(2025, 4, 1), date(2025, 5, 1), 3100)]
    assert world.balance(client) == 5000 - 1500 - 3100


def test_a_trial_renewed_by_hand_becomes_a_paid_service_from_its_end(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a trial until 17 March and 120.00 on the balance
    world, _, client, service = trial_world(12_000, django_capture_on_commit_callbacks)
    # when the client pays a year on 12 March
    renew_service(service=service, period="12m", now=at(date(2025, 3, 12)))
    # then the year runs from the trial's end, and no trial notice follows
    service = world.refresh(service)
    assert (service.period, service.paid_until) == ("12m", date(2026, 3, 17))
    assert world.expenses(service)[1:] == [("charge", date(2025, 3, 17), date(2026, 3, 17), 10_000)]
    assert world.balance(client) == 2000
    with django_capture_on_commit_callbacks(execute=True):
        world.bill(date(2025, 3, 14))
        world.bill(date(2025, 3, 17))
    assert notices(client, "trial_ending") == []
    assert len(world.expenses(service)) == 2
    # and renewing "for the trial" is refused, changing nothing
    with pytest.raises(BillowError) as exc:
        renew_service(service=service, period="trial", now=at(date(2025, 3, 20)))
    assert exc.value.code == "trial_not_renewable"
    assert world.balance(client) == 2000
