"""An injectable clock. Billow never reads the wall clock directly and never uses naive datetimes.

Actions take ``now=`` (resolved with :func:`now`); everything else asks :func:`get_clock`. Tests and
time travel (``billow bill --date``) swap the clock with :func:`use_clock`. The current clock is
process-wide (not per thread), so worker threads started inside ``use_clock`` see it too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

from billow.core.errors import ValidationError


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...

    def today(self) -> date:
        """The current UTC date."""
        ...


def ensure_aware(moment: datetime, *, field: str = "now") -> datetime:
    """``moment`` converted to UTC; a naive datetime raises ``naive_datetime``."""
    if not isinstance(moment, datetime):
        raise ValidationError(f"{field} must be a datetime", code="datetime_required", field=field)
    if moment.utcoffset() is None:
        raise ValidationError(
            f"{field} is a naive datetime; use an aware UTC one", code="naive_datetime", field=field
        )
    return moment.astimezone(UTC)


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands still until it is ``set`` or ``advance``d (tests, time travel)."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self._at = ensure_aware(at, field="at")

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def today(self) -> date:
        return self.now().date()

    def set(self, at: datetime) -> datetime:
        moment = ensure_aware(at, field="at")
        with self._lock:
            self._at = moment
        return moment

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move forward (or back, with a negative delta); returns the new now."""
        step = (delta or timedelta()) + timedelta(days=days, hours=hours, seconds=seconds)
        with self._lock:
            self._at = self._at + step
            return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


_clock: Clock = SystemClock()
_swap_lock = threading.Lock()


def get_clock() -> Clock:
    """The clock in force (the system clock unless a ``use_clock`` block is active)."""
    return _clock


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the current clock inside the block, then restore the previous one."""
    global _clock
    if not isinstance(clock, Clock):
        raise ValidationError("use_clock needs a Clock", code="invalid_clock")
    with _swap_lock:
        previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        with _swap_lock:
            _clock = previous


def now(now: datetime | None = None) -> datetime:
    """Resolve an action's ``now=`` argument: the given moment (aware, to UTC) or the clock's."""
    if now is None:
        return ensure_aware(get_clock().now())
    return ensure_aware(now)


def today() -> date:
    """The current UTC date by the clock in force."""
    return get_clock().today()
