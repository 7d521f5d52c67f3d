from __future__ import annotations

import importlib
from datetime import datetime

import pytest
from django.utils.module_loading import import_string

from billow.core.errors import ConflictError, ValidationError
from billow.jobs import job
from billow.jobs.schedule import SCHEDULE, PeriodicJob, register_schedule, unregister_schedule

ticks: list[str] = []


@job
def tick() -> None:
    ticks.append("tick")


ENTRY = PeriodicJob("test_tick", "tests.jobs.test_schedule.tick", "5 0 * * *")


@pytest.fixture
def registered():
    ticks.clear()
    yield register_schedule([ENTRY])
    unregister_schedule([ENTRY.name])


def test_every_row_of_the_schedule_is_valid():
    names = [entry.name for entry in SCHEDULE]
    assert len(names) == len(set(names))
    for entry in SCHEDULE:
        entry.matcher()
        assert callable(import_string(entry.target))


def test_periodic_task_follows_the_crontab(registered):
    (periodic,) = registered
    task = periodic.s()
    assert task.validate_datetime(datetime(2025, 1, 1, 0, 5))
    assert not task.validate_datetime(datetime(2025, 1, 1, 0, 6))
    assert periodic.task_class.__name__ == "periodic_test_tick"


def test_firing_enqueues_the_target_job(registered, immediate_huey):
    (periodic,) = registered
    periodic.call_local()
    assert ticks == ["tick"]


def test_registering_twice_is_harmless_but_a_changed_row_is_refused(registered):
    assert register_schedule([ENTRY]) == registered
    with pytest.raises(ConflictError) as exc:
        register_schedule([PeriodicJob("test_tick", ENTRY.target, "0 * * * *")])
    assert exc.value.code == "already_registered"


@pytest.mark.parametrize("cron", ["* * * *", "61 * * * *", "0 25 * * *", "a b c d e"])
def test_bad_crontab(cron):
    with pytest.raises(ValidationError) as exc:
        PeriodicJob("bad", "tests.jobs.test_schedule.tick", cron).matcher()
    assert exc.value.code == "invalid_crontab"


def test_consumer_hook_registers_the_table():
    module = importlib.import_module("billow.jobs.tasks")
    assert module.register_schedule is register_schedule
