"""SLA timers in business hours: pure functions over a department's weekly schedule.

A deadline is "N business minutes after the ticket came in": minutes outside the department's
hours (evenings, weekends) do not count. Hours are local to the department's time zone; an
empty schedule means around the clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billow.support.errors import SupportValidationError

#: Far enough to find the next open minute of any schedule with at least one period a week.
_MAX_DAYS = 800


@dataclass(frozen=True, slots=True)
class BusinessHours:
    zone: ZoneInfo
    #: weekday (0 = Monday) -> sorted, non-overlapping (start, end) local times
    periods: Mapping[int, Sequence[tuple[time, time]]]

    @property
    def around_the_clock(self) -> bool:
        return not any(self.periods.values())


def parse_business_hours(zone_name: str, raw: Mapping[str, object] | None) -> BusinessHours:
    """``{"0": [["09:00", "18:00"]], ...}`` checked; ``invalid_business_hours`` otherwise.
    "24:00" ends a period at midnight."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise SupportValidationError(
            f"unknown time zone {zone_name!r}", code="invalid_business_hours"
        ) from None
    periods: dict[int, list[tuple[time, time]]] = {}
    for key, spans in (raw or {}).items():
        try:
            day = int(key)
            parsed = sorted(_span(span) for span in spans)  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            raise SupportValidationError(
                f"bad business hours for day {key!r}", code="invalid_business_hours"
            ) from None
        if not 0 <= day <= 6 or any(a[1] > b[0] for a, b in itertools.pairwise(parsed)):
            raise SupportValidationError(
                f"bad business hours for day {key!r}", code="invalid_business_hours"
            )
        periods[day] = parsed
    return BusinessHours(zone, periods)


def _span(span: Sequence[str]) -> tuple[time, time]:
    start, end = (_clock(text) for text in span)
    if end <= start:
        raise ValueError("a period ends after it starts")
    return start, end


def _clock(text: str) -> time:
    if text == "24:00":
        return time.max
    return time.fromisoformat(text)


def _open_spans(hours: BusinessHours, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open periods (aware UTC) that end after ``start``, in order."""
    day: date = start.astimezone(hours.zone).date()
    for offset in range(_MAX_DAYS):
        current = day + timedelta(days=offset)
        for begin, end in hours.periods.get(current.weekday(), ()):
            lo = datetime.combine(current, begin, hours.zone).astimezone(UTC)
            if end == time.max:
                hi = datetime.combine(current + timedelta(days=1), time(), hours.zone)
            else:
                hi = datetime.combine(current, end, hours.zone)
            hi = hi.astimezone(UTC)
            if hi > start:
                yield max(lo, start), hi


def add_business_minutes(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The moment ``minutes`` business minutes after ``start``."""
    if hours.around_the_clock:
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    for lo, hi in _open_spans(hours, start):
        if lo + left <= hi:
            return lo + left
        left -= hi - lo
    raise SupportValidationError("no business hours ahead", code="invalid_business_hours")


def business_minutes_between(start: datetime, end: datetime, hours: BusinessHours) -> int:
    """Whole business minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -business_minutes_between(end, start, hours)
    if hours.around_the_clock:
        return int((end - start).total_seconds() // 60)
    total = timedelta()
    for lo, hi in _open_spans(hours, start):
        if lo >= end:
            break
        total += min(hi, end) - lo
    return int(total.total_seconds() // 60)


class SlaState(StrEnum):
    NONE = "none"  # no target
    OK = "ok"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    MET = "met"


#: A timer this close to its deadline shows as due soon.
DUE_SOON = timedelta(hours=1)


def timer_state(due_at: datetime | None, done_at: datetime | None, now: datetime) -> SlaState:
    """One timer: met (done by the deadline), breached (done late, or overdue), due soon, ok."""
    if due_at is None:
        return SlaState.NONE
    if done_at is not None:
        return SlaState.MET if done_at <= due_at else SlaState.BREACHED
    if now > due_at:
        return SlaState.BREACHED
    return SlaState.DUE_SOON if due_at - now <= DUE_SOON else SlaState.OK


_RANK = {SlaState.BREACHED: 3, SlaState.DUE_SOON: 2, SlaState.OK: 1, SlaState.MET: 0}


def worst(*states: SlaState) -> SlaState:
    """The state a queue row shows: the worst of its timers."""
    ranked = [s for s in states if s is not SlaState.NONE]
    return max(ranked, key=_RANK.__getitem__) if ranked else SlaState.NONE
