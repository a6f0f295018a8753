"""When a digest subscription sends, and which period each send covers. Pure: no I/O, no clock.

A weekly subscription sends on its weekday at HH:MM local time and covers the seven whole days
before the send date; a monthly one sends on the 1st at HH:MM and covers the previous calendar
month. Local wall times are turned into instants with `zoneinfo`, so 09:00 Europe/Berlin is 08:00
UTC in winter and 07:00 UTC in summer. A wall time that does not exist (the spring-forward gap)
resolves with `fold=0`, i.e. the instant just after the gap; one that occurs twice, the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKLY, MONTHLY = "weekly", "monthly"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Schedule:
    cadence: str  # weekly | monthly
    weekday: int  # 0 = Monday; ignored when monthly
    send_time: str  # HH:MM
    timezone: str  # IANA name


def _wall(day: date, schedule: Schedule) -> datetime:
    hour, minute = (int(part) for part in schedule.send_time.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(schedule.timezone))
    # round-trip through UTC so a time in the DST gap becomes a real instant
    return local.astimezone(UTC)


def _send_day_on_or_before(day: date, schedule: Schedule) -> date:
    if schedule.cadence == MONTHLY:
        return day.replace(day=1)
    return day - timedelta(days=(day.weekday() - schedule.weekday) % 7)


def _previous_send_day(day: date, schedule: Schedule) -> date:
    if schedule.cadence == MONTHLY:
        return (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return day - timedelta(days=7)


def _next_send_day(day: date, schedule: Schedule) -> date:
    if schedule.cadence == MONTHLY:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=7)


def last_send(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled send instant at or before `now` (UTC)."""
    today = now.astimezone(ZoneInfo(schedule.timezone)).date()
    day = _send_day_on_or_before(today, schedule)
    if _wall(day, schedule) > now:
        day = _previous_send_day(day, schedule)
    return _wall(day, schedule)


def next_send(schedule: Schedule, now: datetime) -> datetime:
    """The first scheduled send instant strictly after `now` (UTC)."""
    day = last_send(schedule, now).astimezone(ZoneInfo(schedule.timezone)).date()
    return _wall(_next_send_day(_send_day_on_or_before(day, schedule), schedule), schedule)


def period_for(schedule: Schedule, send_at: datetime) -> tuple[date, date]:
    """The whole days (both inclusive) a send at `send_at` covers."""
    day = send_at.astimezone(ZoneInfo(schedule.timezone)).date()
    if schedule.cadence == MONTHLY:
        end = day.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return day - timedelta(days=7), day - timedelta(days=1)


def period_key(period: tuple[date, date]) -> str:
    return f"{period[0].isoformat()}..{period[1].isoformat()}"


def latest_period(schedule: Schedule, now: datetime) -> tuple[date, date]:
    """The period that ended last (what a preview shows)."""
    return period_for(schedule, last_send(schedule, now))
