"""Time as a dependency: rules that depend on time take a clock so tests move time instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def as_of(moment: datetime, clock: Clock = utcnow) -> Clock:
    """A clock that reads `moment` now and runs on with `clock` from there: a job run "as if the
    clock read T" (`quolum-bot jobs run --at T`) hands this to everything it calls."""
    offset = moment - clock()
    return lambda: clock() + offset
