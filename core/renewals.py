"""Renewal reminders, decided: which stage of a contract is due on a day, what its seats were used for,
and how many to renew. Pure: the day, the dates and what was sent come in; no clock is read here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MISSED = 0  # the stage that says the notice deadline passed (the others are days before it)
MISSED_FOR = 30  # days after a deadline it is still said to have passed (an old contract entered: silence)
HEADROOM_PERCENT = 10
UTILISATION_WEEKS = 12
UTC_NAME = "UTC"


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


def local_day(now: datetime, timezone: str) -> date:
    """The day `now` (aware) falls on in `timezone` (an IANA name; an unknown one counts as UTC)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(UTC_NAME)
    return now.astimezone(zone).date()


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
