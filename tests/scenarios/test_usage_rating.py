"""Scenarios: per-day rating, late records inside and outside the late window, and a re-sent
batch changing nothing (issue 14)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billow.billing.models import Expense
from billow.ledger.models import LedgerTransaction
from billow.usage.models import RerateMark
from tests.scenarios.usage_world import Metered, at

pytestmark = pytest.mark.django_db

MARCH = date(2025, 3, 1)
APRIL = date(2025, 4, 1)


def d(day: int, month: int = 3) -> date:
    return date(2025, month, day)


def test_per_day_rating_charges_each_closed_day_over_its_daily_amount(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given 10 GiB a day included, then 0.007 per GiB, counting traffic in + out
    m = Metered(
        django_capture_on_commit_callbacks,
        included=10,
        price="0.7",
        rating="per_day",
        parameters=("traffic_in", "traffic_out"),
    )
    m.send(at(d(1), 23), (at(d(1), 8), 5), parameter="traffic_in")
    m.send(at(d(1), 23), (at(d(1), 9), 10), parameter="traffic_out")
    m.send(at(d(2), 23), (at(d(2), 9), 8))
    m.send(at(d(3), 23), (at(d(3), 9), "12.5"))
    # when the run happens each day
    for day in (2, 3, 4):
        m.bill(d(day))
    # then 1 March: 15 - 10 = 5 x 0.7 = 3.5 -> 4; 2 March: within; 3 March: 2.5 x 0.7 = 1.75 -> 2
    assert m.overage() == [(d(1), d(2), 4, 0), (d(3), d(4), 2, 0)]
    # and a rerun of the 4th charges nothing more
    m.bill(d(4))
    assert len(m.overage()) == 2


def test_missed_runs_are_caught_up_per_day(django_capture_on_commit_callbacks: Any) -> None:
    m = Metered(django_capture_on_commit_callbacks, included=10, price="1", rating="per_day")
    for day, used in ((1, 11), (2, 12), (3, 13)):
        m.send(at(d(day), 23), (at(d(day)), used))
    m.bill(d(5))  # no run on the 2nd, 3rd and 4th
    assert m.overage() == [(d(1), d(2), 1, 0), (d(2), d(3), 2, 0), (d(3), d(4), 3, 0)]


def test_a_late_record_inside_the_window_charges_only_the_difference(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given March rated on 1 April at 130 GiB: 1.50
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    m.send(at(d(10), 13), (at(d(10)), 60))
    m.send(at(d(31), 23), (at(d(31), 22), 70))
    m.bill(APRIL)
    assert m.overage() == [(MARCH, APRIL, 150, 0)]
    # when a record of 31 March arrives on 3 April (within the 7-day window)
    result = m.send(at(d(3, 4)), (at(d(31), 23), 10))
    assert (result.accepted, result.rejected) == (1, 0)
    m.bill(d(4, 4))
    m.bill(d(4, 4))
    m.bill(d(5, 4))
    # then March is re-rated at 140 GiB (2.00) and only the 0.50 difference is charged, once
    assert m.overage() == [(MARCH, APRIL, 150, 0), (MARCH, APRIL, 50, 0)]
    assert Expense.objects.filter(key=f"usage:{m.service.pk}:{m.addon.pk}:2025-03-01:200").exists()
    assert m.rollups()["charged"] == [(MARCH, 200)]
    assert m.balance() == 10_000 - 2000 - 200


def test_a_late_record_outside_the_window_is_refused_and_changes_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    m.send(at(d(31), 23), (at(d(30)), 130))
    m.bill(APRIL)
    before = (m.rollups(), m.expenses(), m.balance())
    # when a record of 31 March arrives on 20 April (past the 7-day window)
    result = m.send(at(d(20, 4)), (at(d(31), 23), 10))
    m.bill(d(21, 4))
    # then it is refused with its error and nothing is stored or charged
    assert (result.accepted, result.rejected) == (0, 1)
    assert result.errors[0]["code"] == "too_late"
    assert (m.rollups(), m.expenses(), m.balance()) == before


def test_resending_the_same_batch_changes_neither_rollups_nor_charges(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a batch of March traffic ingested and March rated on 1 April
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    batch = [(at(d(day), hour), 7) for day in (26, 28, 31) for hour in (1, 13, 22)]
    first = m.send(at(d(31), 23), *batch)
    assert first.accepted == 9
    m.bill(APRIL)
    rollups, expenses = m.rollups(), m.expenses()
    transactions = LedgerTransaction.objects.count()
    assert m.overage() == []  # 63 GiB: within the 100 included
    # when the same batch is sent again, on 31 March and again on 2 April, and the run reruns
    again = m.send(at(d(31), 23, 30), *batch)
    late = m.send(at(d(2, 4)), *batch)
    m.bill(APRIL)
    m.bill(d(2, 4))
    # then nothing is stored twice and nothing more is charged
    assert (again.accepted, again.duplicates, late.accepted, late.duplicates) == (0, 9, 0, 9)
    assert m.rollups() == rollups
    assert m.expenses() == expenses
    assert LedgerTransaction.objects.count() == transactions


def test_resending_a_batch_with_overage_charges_it_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    batch = [(at(d(day)), 40) for day in (27, 28, 29, 30)]  # 160 GiB: 60 over = 3.00
    m.send(at(d(31), 23), *batch)
    m.bill(APRIL)
    charged = (m.rollups(), m.expenses(), m.balance())
    m.send(at(d(2, 4)), *batch)
    m.bill(d(2, 4))
    m.bill(d(3, 4))
    assert m.overage() == [(MARCH, APRIL, 300, 0)]
    assert (m.rollups(), m.expenses(), m.balance()) == charged


def test_a_month_end_missed_by_the_runs_is_caught_up_by_the_next_run(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given runs up to 20 March, then none until 25 April (past the late-record lookback)
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    m.bill(d(20))
    m.send(at(d(30), 23), (at(d(30)), 130))  # sent the same day: no re-rate mark
    assert not RerateMark.objects.exists()
    m.bill(d(25, 4))
    # then March's overage is charged by the run of 25 April
    assert m.overage() == [(MARCH, APRIL, 150, 0)]


def test_the_run_clears_the_rerate_marks_of_closed_days(
    django_capture_on_commit_callbacks: Any,
) -> None:
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    m.send(at(d(31), 23), (at(d(30)), 130))  # 30 March: closed on the 31st, marked
    m.send(at(d(3, 4)), (at(d(2, 4)), 5))  # 2 April: closed on the 3rd, April still open
    assert set(RerateMark.objects.filter(service=m.service).values_list("day", flat=True)) == {
        d(30),
        d(2, 4),
    }
    m.bill(d(3, 4))
    # March is rated; April's mark says nothing April's rating at its close will not see
    assert not RerateMark.objects.filter(service=m.service).exists()
    assert m.overage() == [(MARCH, APRIL, 150, 0)]
