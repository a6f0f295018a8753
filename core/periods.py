"""Report periods: whole days in an account's time zone, as UTC instants and epoch milliseconds.

`parse_period(text, timezone=..., today=...)` reads `last-N-days` or `YYYY-MM-DD..YYYY-MM-DD`;
`Period` carries the days, the zone and the edges collection compares records against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_PERIOD_DAYS = 366
_LAST_N_DAYS = re.compile(r"last-(\d{1,3})-days?")
_RANGE = re.compile(r"(\S+)\s*\.\.\s*(\S+)")


# --------------------------------------------------------------------------- period


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError with a readable sentence."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not a time zone I know (use a name like Europe/Paris).") from None


def today_in(timezone: str, now: datetime) -> date:
    """The calendar date in `timezone` at the aware instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone(timezone)).date()


def _midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`, in UTC.

    ``fold=0`` on a wall time that does not exist (clocks jumping at midnight) uses the offset
    from before the jump, which lands on the first instant of the day that does exist.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Whole days [start, end], both inclusive, in the IANA zone `timezone`."""

    start: date
    end: date
    timezone: str

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.end < self.start:
            raise ValueError(
                f"The period ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})."
            )

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_utc(self) -> datetime:
        """The first instant of the period (start 00:00 local), aware, in UTC."""
        return _midnight_utc(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the period (end + 1 day, 00:00 local), aware, in UTC."""
        return _midnight_utc(self.end + timedelta(days=1), self.tz)

    @property
    def start_ms(self) -> int:
        return _ms(self.start_utc)

    @property
    def end_ms(self) -> int:
        """Epoch milliseconds of `end_utc`: exclusive."""
        return _ms(self.end_utc)

    def contains(self, instant: datetime) -> bool:
        return self.start_utc <= instant < self.end_utc

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.timezone}

    @classmethod
    def last_days(cls, days: int, *, timezone: str, today: date) -> Period:
        """The `days` whole days before `today` (today excluded)."""
        if not 1 <= days <= MAX_PERIOD_DAYS:
            raise ValueError(f"A period covers 1 to {MAX_PERIOD_DAYS} days, not {days}.")
        return cls(today - timedelta(days=days), today - timedelta(days=1), timezone)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _parse_day(text: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-05-01.")


def parse_period(text: str, *, timezone: str, today: date) -> Period:
    """``last-7-days``, ``last-30-days`` or ``YYYY-MM-DD..YYYY-MM-DD``, relative to `today` in `timezone`."""
    cleaned = (text or "").strip().lower()
    if not cleaned:
        raise ValueError(
            "Say which period: last-7-days, last-30-days or a range like 2026-05-01..2026-05-31."
        )
    if match := _LAST_N_DAYS.fullmatch(cleaned):
        return Period.last_days(int(match.group(1)), timezone=timezone, today=today)
    if match := _RANGE.fullmatch(cleaned):
        start, end = _parse_day(match.group(1)), _parse_day(match.group(2))
        period = Period(start, end, timezone)
        if end > today:
            raise ValueError(
                f"The period cannot end after today ({today.isoformat()}); it ends {end.isoformat()}."
            )
        if period.days > MAX_PERIOD_DAYS:
            raise ValueError(f"A period covers at most {MAX_PERIOD_DAYS} days; this one has {period.days}.")
        return period
    raise ValueError(
        f"I don't understand the period {text.strip()!r}: use last-7-days, last-30-days "
        "or a range like 2026-05-01..2026-05-31."
    )
