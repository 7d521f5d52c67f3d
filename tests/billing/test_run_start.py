"""Starting a billing run: one running run per date, a finished date may be billed again."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from billow.billing.models import BillingRun, BillingRunChunk, RunStatus
from billow.billing.run import start_billing_run
from tests.billing.world import World, at

DAY = date(2025, 3, 1)


@pytest.mark.django_db
def test_the_database_refuses_a_second_running_run_of_a_date() -> None:
    # given a running run of 1 March
    BillingRun.objects.create(date=DAY)
    # when another running run of that date is inserted, then the constraint refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingRun.objects.create(date=DAY)
    assert list(BillingRun.objects.values_list("date", "status")) == [(DAY, "running")]


@pytest.mark.django_db
def test_a_finished_date_may_be_billed_again() -> None:
    # given the run of 1 March, finished
    world = World()
    first = world.bill(DAY)
    assert first.status == RunStatus.DONE
    # when the date is started again, then a new run is created beside the done one
    second = start_billing_run(day=DAY, now=at(DAY, 0))
    assert second.pk != first.pk
    assert sorted(BillingRun.objects.values_list("id", "status")) == [
        (first.pk, "done"),
        (second.pk, "running"),
    ]
    # and starting it once more resumes that run
    assert start_billing_run(day=DAY, now=at(DAY, 0)).pk == second.pk


def _in_threads(n: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            out[i] = work()
        except Exception as exc:  # kept, so that the test shows it
            out[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_of_one_date_give_one_run() -> None:
    # given eight workers starting the billing of 1 March at the same moment
    runs = _in_threads(8, lambda: start_billing_run(day=DAY, now=at(DAY, 0)))
    # then they all got the same run, the only one, with its chunks created once
    assert all(isinstance(r, BillingRun) for r in runs), runs
    assert {r.pk for r in runs} == set(BillingRun.objects.values_list("id", flat=True))
    assert BillingRun.objects.count() == 1
    assert BillingRunChunk.objects.count() == runs[0].chunks_total == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_start_that_loses_the_insert_returns_the_winners_run() -> None:
    # given another worker that has inserted the run of 1 March and not committed yet
    inserted = threading.Event()
    winner: list[int] = []

    def other_worker() -> None:
        try:
            with transaction.atomic():
                winner.append(BillingRun.objects.create(date=DAY).pk)
                inserted.set()
                time.sleep(0.5)  # the start below reads no run, then waits on the index
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert inserted.wait(10)
    # when this worker starts the date
    run = start_billing_run(day=DAY, now=at(DAY, 0))
    thread.join()
    # then it gets the other worker's run and created nothing of its own
    assert run.pk == winner[0]
    assert list(BillingRun.objects.values_list("id", flat=True)) == winner
    assert BillingRunChunk.objects.count() == 0
