from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from billow.core import clock
from billow.core.clock import Clock, FixedClock, SystemClock, get_clock, use_clock
from billow.core.errors import ValidationError

T0 = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)


def test_system_clock_is_aware_utc():
    moment = SystemClock().now()
    assert moment.tzinfo is UTC
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)
    assert isinstance(SystemClock(), Clock)


def test_default_clock_is_the_system_clock():
    assert isinstance(get_clock(), SystemClock)


def test_fixed_clock_stands_still_and_advances():
    fixed = FixedClock(T0)
    assert fixed.now() == T0
    assert fixed.today() == date(2025, 1, 31)
    assert fixed.advance(hours=1) == datetime(2025, 2, 1, 0, 30, tzinfo=UTC)
    assert fixed.today() == date(2025, 2, 1)
    assert fixed.advance(timedelta(days=-1), seconds=30) == datetime(
        2025, 1, 31, 0, 30, 30, tzinfo=UTC
    )
    fixed.set(datetime(2030, 6, 1, tzinfo=UTC))
    assert fixed.now() == datetime(2030, 6, 1, tzinfo=UTC)


def test_fixed_clock_normalises_to_utc():
    moscow = timezone(timedelta(hours=3))
    fixed = FixedClock(datetime(2025, 2, 1, 1, 0, tzinfo=moscow))
    assert fixed.now() == datetime(2025, 1, 31, 22, 0, tzinfo=UTC)
    assert fixed.now().tzinfo is UTC
    assert fixed.today() == date(2025, 1, 31)  # the UTC date, not Moscow's


def test_naive_datetimes_are_refused():
    with pytest.raises(ValidationError) as exc:
        FixedClock(datetime(2025, 1, 1))
    assert exc.value.code == "naive_datetime"
    fixed = FixedClock(T0)
    with pytest.raises(ValidationError):
        fixed.set(datetime(2025, 1, 1))
    assert fixed.now() == T0  # unchanged
    with pytest.raises(ValidationError) as exc:
        clock.now(datetime(2025, 1, 1))
    assert exc.value.code == "naive_datetime"


def test_use_clock_swaps_and_restores_even_on_error():
    fixed = FixedClock(T0)
    with pytest.raises(RuntimeError), use_clock(fixed):
        assert get_clock() is fixed
        assert clock.now() == T0
        assert clock.today() == date(2025, 1, 31)
        raise RuntimeError("boom")
    assert isinstance(get_clock(), SystemClock)


def test_use_clock_nests():
    outer, inner = FixedClock(T0), FixedClock(T0 + timedelta(days=1))
    with use_clock(outer):
        with use_clock(inner):
            assert clock.now() == T0 + timedelta(days=1)
        assert clock.now() == T0


def test_use_clock_is_seen_by_other_threads():
    seen: list[datetime] = []
    with use_clock(FixedClock(T0)):
        worker = threading.Thread(target=lambda: seen.append(clock.now()))
        worker.start()
        worker.join()
    assert seen == [T0]


def test_use_clock_refuses_a_non_clock():
    with pytest.raises(ValidationError) as exc, use_clock(object()):  # type: ignore[arg-type]
        pass
    assert exc.value.code == "invalid_clock"


def test_explicit_now_wins_over_the_clock():
    explicit = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5)))
    with use_clock(FixedClock(T0)):
        assert clock.now(explicit) == datetime(2020, 1, 1, 17, tzinfo=UTC)
