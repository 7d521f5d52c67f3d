"""SLA timers count business hours only: across the end of a day, a weekend, a time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billow.support.errors import SupportValidationError
from billow.support.models import SlaTarget
from billow.support.sla import (
    SlaState,
    add_business_minutes,
    business_minutes_between,
    parse_business_hours,
    timer_state,
)
from tests.support.conftest import Desk

WEEKDAYS = parse_business_hours("UTC", {str(d): [["09:00", "18:00"]] for d in range(5)})


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)  # 7 Dec 2026 is a Monday


def test_within_a_business_day() -> None:
    assert add_business_minutes(utc(7, 10), 60, WEEKDAYS) == utc(7, 11)


def test_over_the_end_of_the_day() -> None:
    # 17:30 + 60 business minutes: 30 today, 30 tomorrow from 09:00
    assert add_business_minutes(utc(7, 17, 30), 60, WEEKDAYS) == utc(8, 9, 30)


def test_over_a_weekend() -> None:
    # Friday 17:00 + 120: one hour on Friday, the weekend does not count, one on Monday
    assert add_business_minutes(utc(11, 17), 120, WEEKDAYS) == utc(14, 10)
    assert business_minutes_between(utc(11, 17), utc(14, 10), WEEKDAYS) == 120
    # opened on Saturday: the clock starts on Monday at 09:00
    assert add_business_minutes(utc(12, 13), 30, WEEKDAYS) == utc(14, 9, 30)
    assert business_minutes_between(utc(12, 0), utc(13, 23, 59), WEEKDAYS) == 0


def test_department_time_zone() -> None:
    moscow = parse_business_hours("Europe/Moscow", {"0": [["09:00", "18:00"]]})
    # 09:00 in Moscow is 06:00 UTC; a ticket at 05:00 UTC waits until then
    assert add_business_minutes(utc(7, 5), 10, moscow) == utc(7, 6, 10)


def test_split_day_and_around_the_clock() -> None:
    lunch = parse_business_hours("UTC", {"0": [["09:00", "12:00"], ["13:00", "18:00"]]})
    assert add_business_minutes(utc(7, 11, 30), 60, lunch) == utc(7, 13, 30)
    always = parse_business_hours("UTC", {})
    assert add_business_minutes(utc(12, 23), 120, always) == utc(13, 1)


@pytest.mark.parametrize(
    "raw",
    [{"7": [["09:00", "18:00"]]}, {"0": [["18:00", "09:00"]]}, {"0": [["x", "y"]]}],
)
def test_bad_schedules_are_refused(raw: dict) -> None:
    with pytest.raises(SupportValidationError) as exc:
        parse_business_hours("UTC", raw)
    assert exc.value.code == "invalid_business_hours"


def test_timer_states() -> None:
    due = utc(7, 11)
    assert timer_state(due, None, utc(7, 9)) is SlaState.OK
    assert timer_state(due, None, utc(7, 10, 30)) is SlaState.DUE_SOON
    assert timer_state(due, None, utc(7, 11, 1)) is SlaState.BREACHED
    assert timer_state(due, utc(7, 10), utc(8, 10)) is SlaState.MET
    assert timer_state(due, utc(7, 12), utc(8, 10)) is SlaState.BREACHED
    assert timer_state(None, None, utc(7, 10)) is SlaState.NONE


def test_ticket_opened_friday_evening_is_due_monday(desk: Desk) -> None:
    from billow.core.actors import Actor
    from billow.support import actions
    from billow.support.selectors import ticket_sla_state

    SlaTarget.objects.filter(department=desk.support).update(
        first_response_minutes=120, resolution_minutes=600
    )
    ticket = actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="Weekend",
        body="Down since Friday",
        actor=Actor.client_user(desk.web.a.owner),
        now=utc(11, 17),
    )
    assert ticket.first_response_due_at == utc(14, 10)
    assert ticket.resolution_due_at == utc(14, 18)  # 1 h on Friday + 9 h on Monday
    assert ticket_sla_state(ticket, utc(13, 12)) is SlaState.OK  # Sunday: nothing ticks
    assert ticket_sla_state(ticket, utc(14, 10, 1)) is SlaState.BREACHED
