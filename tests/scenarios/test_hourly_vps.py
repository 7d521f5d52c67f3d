"""Scenario: an hourly VPS is charged per started hour by the hourly run (reruns and missed
runs included), suspended when the balance runs out, not charged while suspended, resumed by a
payment, and deleted after the product type's auto-delete period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.billing.actions import delete_service, resume_paid_services
from billow.billing.hourly import document_hourly_charges, run_hourly_billing
from billow.billing.models import Expense
from billow.core.errors import BillowError
from billow.invoicing.models import TaxRule
from billow.ledger.selectors import get_reconcile_report
from billow.services.actions import set_service_auto_renew
from billow.services.models import ServiceOperation
from billow.services.states import ServiceStatus
from tests.billing.world import World
from tests.scenarios.ordering import module_jobs_inline, order

__all__ = ["module_jobs_inline"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("module_jobs_inline")]

HOUR = timedelta(hours=1)


def hours_charged(service: Any) -> list[str]:
    return sorted(
        Expense.objects.filter(service=service, reason="hour").values_list("key", flat=True)
    )


def test_an_hourly_vps_over_49_hours_and_10_minutes_is_charged_50_hours(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a VPS at 0.02 an hour ordered at 10:20 on 10 March with 10.00 on the balance
    world = World()
    tariff = world.tariff("VPS Hourly", {"hour": 2})
    client = world.client(balance=1000)
    start = datetime(2025, 3, 10, 10, 20, tzinfo=UTC)
    capture = django_capture_on_commit_callbacks
    service = order(world, client, tariff, "hour", now=start, capture=capture)
    assert service.status == ServiceStatus.ACTIVE
    # when the hourly run runs at every full hour (twice at some, missing four in a row)
    end = start + timedelta(hours=49, minutes=10)  # 12 March 11:30
    missed = {datetime(2025, 3, 11, h, tzinfo=UTC) for h in (2, 3, 4, 5)}
    moment = datetime(2025, 3, 10, 11, tzinfo=UTC)
    while moment <= end:
        if moment not in missed:
            with capture(execute=True):
                run_hourly_billing(now=moment)
        if moment.hour % 7 == 0:
            run_hourly_billing(now=moment + timedelta(minutes=3))  # a rerun charges nothing
        moment += HOUR
    # and the client deletes it at 11:30 on 12 March, after which the run goes on
    with capture(execute=True):
        delete_service(service=service, when="now", now=end)
        run_hourly_billing(now=end + timedelta(minutes=30))
    # then exactly 50 started hours are charged (10:00 on the 10th to 11:00 on the 12th)
    keys = hours_charged(service)
    first = datetime(2025, 3, 10, 10, tzinfo=UTC)
    assert keys == [f"hour:{service.pk}:{first + n * HOUR:%Y-%m-%dT%H}" for n in range(50)]
    assert (
        sum(Expense.objects.filter(service=service).values_list("amount_minor", flat=True)) == 100
    )
    assert world.balance(client) == 900
    service = world.refresh(service)
    assert service.status == ServiceStatus.DELETED
    assert service.paid_until_at == datetime(2025, 3, 12, 12, tzinfo=UTC)
    # and the next night the run's hours of 10 March (11:00-23:00; the first hour is on the
    # order's invoice) are documented on one paid invoice, once, in one line of 13 hours
    (invoice,) = document_hourly_charges(
        day=date(2025, 3, 10), now=datetime(2025, 3, 11, 0, 20, tzinfo=UTC)
    )
    assert (invoice.client_id, invoice.status, invoice.total_minor) == (client.pk, "paid", 26)
    (line,) = invoice.lines.all()
    assert (line.quantity, line.unit_price_minor, line.net_minor, line.total_minor) == (
        13,
        2,
        26,
        26,
    )
    assert (line.period_from, line.period_to) == (date(2025, 3, 10), date(2025, 3, 11))
    assert document_hourly_charges(day=date(2025, 3, 10)) == []
    undocumented = Expense.objects.filter(service=service, invoice__isnull=True)
    assert undocumented.count() == 50 - 1 - 13


def test_an_hourly_vps_is_suspended_when_the_balance_runs_out_and_resumed_by_a_payment(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a VPS at 0.02 an hour ordered at 10:00 with 0.06 on the balance (three hours)
    world = World(auto_delete_days=2)
    tariff = world.tariff("VPS Hourly", {"hour": 2})
    client = world.client(balance=6)
    capture = django_capture_on_commit_callbacks
    t0 = datetime(2025, 3, 10, 10, tzinfo=UTC)
    service = order(world, client, tariff, "hour", now=t0, capture=capture)
    # when the run passes 11:00, 12:00 (paid) and 13:00 (nothing left)
    for n in (1, 2, 3):
        with capture(execute=True):
            report = run_hourly_billing(now=t0 + n * HOUR)
    # then it is suspended for non-payment at 13:00 with 0.00 left
    service = world.refresh(service)
    assert service.status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert report["suspended"] == 1
    assert world.balance(client) == 0
    assert len(hours_charged(service)) == 3
    # and stays so, charged nothing, while the run goes on
    for n in (4, 5):
        with capture(execute=True):
            report = run_hourly_billing(now=t0 + n * HOUR)
    assert report["unpaid"] == 1 and len(hours_charged(service)) == 3
    # when a payment of 0.04 comes at 15:40, it resumes from the 15:00 hour (the suspended
    # hours free)
    world.topup(client, 4)
    with capture(execute=True):
        resumed = resume_paid_services(
            client_id=client.pk, currency="USD", now=t0 + timedelta(hours=5, minutes=40)
        )
    assert resumed == [service.pk]
    service = world.refresh(service)
    assert service.status == ServiceStatus.ACTIVE
    assert service.paid_until_at == t0 + 6 * HOUR
    assert hours_charged(service)[-1] == f"hour:{service.pk}:2025-03-10T15"
    assert world.balance(client) == 2
    # and when that runs out at 17:00 it is suspended again the same day, through the module
    for n in (6, 7):
        with capture(execute=True):
            run_hourly_billing(now=t0 + n * HOUR)
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert len(hours_charged(service)) == 5 and world.balance(client) == 0
    assert sorted(
        ServiceOperation.objects.filter(service=service, operation="suspend").values_list(
            "idempotency_key", "status"
        )
    ) == [
        (f"suspend:{service.pk}:2025-03-10", "succeeded"),
        (f"suspend:{service.pk}:2025-03-10:2", "succeeded"),
    ]


def test_an_unpaid_hourly_vps_is_deleted_after_the_auto_delete_period(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = World(auto_delete_days=2)
    tariff = world.tariff("VPS Hourly", {"hour": 2})
    client = world.client(balance=2)
    capture = django_capture_on_commit_callbacks
    t0 = datetime(2025, 3, 10, 10, tzinfo=UTC)
    service = order(world, client, tariff, "hour", now=t0, capture=capture)
    with capture(execute=True):
        run_hourly_billing(now=t0 + HOUR)
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    # suspended at 11:00 on the 10th: still there at 10:00 on the 12th, deleted at 11:00
    with capture(execute=True):
        run_hourly_billing(now=t0 + 48 * HOUR)
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    with capture(execute=True):
        report = run_hourly_billing(now=t0 + 49 * HOUR)
    assert report["deleted"] == 1
    assert world.refresh(service).status == ServiceStatus.DELETED
    assert world.balance(client) == 0
    assert len(hours_charged(service)) == 1


def test_a_monthly_service_never_renews_by_the_hour() -> None:
    # given a tariff sold by the month and by the hour, and a monthly service
    world = World()
    tariff = world.tariff("VPS Both", {"1m": 1000, "hour": 2})
    client = world.client(balance=5000)
    service = world.service(client, tariff, date(2025, 2, 1))
    # when the client asks to renew it by the hour: refused, nothing changes
    with pytest.raises(BillowError) as exc:
        set_service_auto_renew(service=service, period="hour")
    assert exc.value.code == "invalid_auto_renew_period"
    assert world.refresh(service).auto_renew_period == "1m"
    # and a row that says so anyway fails alone in the daily run, charging nothing
    type(service).objects.filter(pk=service.pk).update(auto_renew_period="hour")
    run = world.bill(date(2025, 3, 1))
    assert run.report["failures"] == [[service.pk, "invalid_auto_renew_period"]]
    assert world.balance(client) == 4000


def test_a_days_hours_carry_the_tax_of_the_days_amount(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given 19 % VAT added for German clients and a VPS at 0.02 an hour ordered at 23:20
    world = World()
    TaxRule.objects.create(provider=world.provider, name="VAT", country="DE", rate=Decimal("19"))
    tariff = world.tariff("VPS Hourly", {"hour": 2})
    client = world.client(balance=1000)
    Client.objects.filter(pk=client.pk).update(country="DE")
    capture = django_capture_on_commit_callbacks
    ordered = datetime(2025, 3, 9, 23, 20, tzinfo=UTC)
    service = order(world, client, tariff, "hour", now=ordered, capture=capture)
    # when the hourly run charges every hour of 10 March
    for h in range(24):
        run_hourly_billing(now=datetime(2025, 3, 10, h, tzinfo=UTC))
    # then the 24 hours (0.48) carry 0.09 of tax: 19 % of 0.48 is 0.0912, where 0.02 an hour
    # would round to 0.00 every hour; no hour carries more than a cent
    day = Expense.objects.filter(service=service, period_from=date(2025, 3, 10))
    assert day.count() == 24
    taxes = list(day.order_by("key").values_list("tax_minor", flat=True))
    assert (sum(taxes), max(taxes)) == (9, 1)
    assert set(day.values_list("tax_added_minor", flat=True)) == {0, 1}
    assert world.balance(client) == 1000 - 2 - 48 - 9
    assert get_reconcile_report().ok
    # and the next night's invoice shows the day as one line of 24 hours with the day's tax
    (invoice,) = document_hourly_charges(
        day=date(2025, 3, 10), now=datetime(2025, 3, 11, 0, 20, tzinfo=UTC)
    )
    (line,) = invoice.lines.all()
    assert (line.quantity, line.unit_price_minor, line.net_minor) == (24, 2, 48)
    assert (line.tax_rate, line.tax_minor, line.total_minor) == (Decimal("19"), 9, 57)
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (48, 9, 57)
