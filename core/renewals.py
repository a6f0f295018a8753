"""Renewal reminders, decided: which stage of a contract is due on a day, what its seats were used for,
and how many to renew. Pure: the day, the dates and what was sent come in; no clock is read here."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MISSED = 0  # the stage that says the notice deadline passed (the others are days before it)
MISSED_FOR = 30  # days after a deadline it is still said to have passed (an old contract entered: silence)
HEADROOM_PERCENT = 10
UTILISATION_WEEKS = 12
UTC_NAME = "UTC"
REMIND_FROM_HOUR = 9  # reminders go out from this local hour (working hours), not at local midnight
HOUR_SENTENCE = "The reminder hour is a whole hour from 0 to 23, like 9 or 09:00."


def stage_due(
    today: date, deadline: date, stages: Sequence[int], sent: Collection[int], *, stopped: bool = False
) -> int | None:
    """The stage to send today, or None. A stage is due from its day (deadline minus its days) until the
    next one's; one missed while nothing ran is not sent late once a later one is due. After the deadline
    MISSED is due, once (for MISSED_FOR days: a contract entered long after its deadline is not told). Nothing once stopped (the owner will cancel) or once MISSED was said."""
    if stopped or MISSED in sent:
        return None
    if today > deadline:
        return MISSED if (today - deadline).days <= MISSED_FOR else None
    left = (deadline - today).days
    reached = [s for s in stages if s >= left]  # stages whose day has come
    if not reached:
        return None
    latest = min(reached)
    if latest in sent or any(s < latest for s in sent):
        return None
    return latest


def workspace_timezone(chosen: str | None, subscribed: Sequence[str]) -> str:
    """The timezone whose days a workspace's reminders count: the one set for its contracts, else its
    first digest subscription's, else UTC."""
    return chosen or next((tz for tz in subscribed if tz), UTC_NAME)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def local_day(now: datetime, timezone: str) -> date:
    """The day `now` (aware) falls on in `timezone` (an IANA name; an unknown one counts as UTC)."""
    return now.astimezone(_zone(timezone)).date()


def reminder_day(now: datetime, timezone: str, hour: int = REMIND_FROM_HOUR) -> date:
    """The local day whose reminders are due at `now`: today once the workspace's clock has reached
    `hour`, else yesterday. A stage's day thus starts at `hour` local time (09:00: working hours, not
    the first run after midnight), and the day rules (stage_due) are unchanged. Wall-clock arithmetic
    in the zone, so a DST change that day still starts it at `hour` on the clock."""
    return (now.astimezone(_zone(timezone)) - timedelta(hours=hour)).date()


def parse_hour(text: str) -> int:
    """`9`, `09` or `09:00` -> 9; anything else (minutes, 24, words) raises ValueError(HOUR_SENTENCE)."""
    found = re.fullmatch(r"([01]?[0-9]|2[0-3])(:00)?", text.strip(), re.ASCII)
    if found is None:
        raise ValueError(HOUR_SENTENCE)
    return int(found.group(1))


def stage_day(deadline: date, stage: int) -> date:
    return deadline + timedelta(days=1) if stage == MISSED else deadline - timedelta(days=stage)


@dataclass(frozen=True)
class Utilisation:
    peak: int
    average: float
    periods: int  # how many stored periods it was counted from


def utilisation(active: Sequence[int]) -> Utilisation | None:
    """Peak and average active seats over the periods given (None: nothing stored)."""
    if not active:
        return None
    return Utilisation(max(active), sum(active) / len(active), len(active))


def right_size(peak: int, headroom_percent: int = HEADROOM_PERCENT) -> int:
    """Peak use plus the headroom, rounded up: 66 at 10 % is 73 (72.6 rounded up)."""
    return -(-peak * (100 + headroom_percent) // 100)
