"""next_send / last_send / period_for: table-driven, across DST changes and month ends."""

from datetime import UTC, date, datetime

import pytest

from services.digest_schedule import (
    MONTHLY,
    WEEKLY,
    Schedule,
    last_send,
    latest_period,
    next_send,
    period_for,
)

BERLIN = Schedule(WEEKLY, 0, "09:00", "Europe/Berlin")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "now,expected",
    [
        # October 2026: clocks go back on Sunday 25 Oct. Monday 19 Oct is CEST (UTC+2), 26 Oct CET (+1).
        (utc(2026, 10, 18, 12), utc(2026, 10, 19, 7)),
        (utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)),  # strictly after: the send itself moves on
        (utc(2026, 10, 19, 7, 1), utc(2026, 10, 26, 8)),
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 26, 8)),  # during the repeated hour
        (utc(2026, 10, 26, 7, 59), utc(2026, 10, 26, 8)),
        # March 2027: clocks go forward on Sunday 28 Mar. Monday 22 Mar is CET (+1), 29 Mar CEST (+2).
        (utc(2027, 3, 21, 12), utc(2027, 3, 22, 8)),
        (utc(2027, 3, 22, 8, 0, 1), utc(2027, 3, 29, 7)),
        (utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 7)),
        (utc(2027, 3, 29, 6, 59), utc(2027, 3, 29, 7)),
    ],
)
def test_weekly_at_nine_berlin_across_dst(now, expected):
    assert next_send(BERLIN, now) == expected
    local = expected.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)


@pytest.mark.parametrize(
    "tz,now,expected",
    [
        # east of UTC: 1 Dec 09:00 in Tokyo (+9) is 30 Nov 00:00 UTC
        ("Asia/Tokyo", utc(2026, 11, 29, 23), utc(2026, 12, 1, 0)),
        ("Asia/Tokyo", utc(2026, 12, 1, 0), utc(2027, 1, 1, 0)),
        # west of UTC: 1 Dec 09:00 in Los Angeles (-8) is 1 Dec 17:00 UTC; on 1 Dec 02:00 UTC it is
        # still 30 Nov there
        ("America/Los_Angeles", utc(2026, 12, 1, 2), utc(2026, 12, 1, 17)),
        ("America/Los_Angeles", utc(2026, 12, 1, 17, 1), utc(2027, 1, 1, 17)),
        # across a DST change: 1 Apr 09:00 PDT (-7) is 16:00 UTC
        ("America/Los_Angeles", utc(2027, 3, 2), utc(2027, 4, 1, 16)),
        ("Asia/Tokyo", utc(2026, 12, 31, 23, 59), utc(2027, 1, 1, 0)),
    ],
)
def test_monthly_on_the_first(tz, now, expected):
    schedule = Schedule(MONTHLY, 0, "09:00", tz)
    assert next_send(schedule, now) == expected


@pytest.mark.parametrize(
    "schedule,send_at,period",
    [
        (BERLIN, utc(2026, 10, 26, 8), (date(2026, 10, 19), date(2026, 10, 25))),
        (
            Schedule(MONTHLY, 0, "09:00", "Asia/Tokyo"),
            utc(2026, 12, 1, 0),
            (date(2026, 11, 1), date(2026, 11, 30)),
        ),
        (
            Schedule(MONTHLY, 0, "09:00", "America/Los_Angeles"),
            utc(2027, 3, 1, 17),
            (date(2027, 2, 1), date(2027, 2, 28)),
        ),
        (
            Schedule(MONTHLY, 0, "00:30", "Asia/Tokyo"),
            utc(2026, 12, 31, 15, 30),
            (date(2026, 12, 1), date(2026, 12, 31)),
        ),
    ],
)
def test_period_for(schedule, send_at, period):
    assert period_for(schedule, send_at) == period


@pytest.mark.parametrize(
    "now,expected",
    [
        (utc(2026, 10, 26, 8), utc(2026, 10, 26, 8)),  # at the send time: this one
        (utc(2026, 10, 26, 7, 59), utc(2026, 10, 19, 7)),
        (utc(2027, 3, 29, 7, 30), utc(2027, 3, 29, 7)),
    ],
)
def test_last_send(now, expected):
    assert last_send(BERLIN, now) == expected


def test_a_time_in_the_spring_gap_is_the_instant_after_it():
    schedule = Schedule(WEEKLY, 6, "02:30", "Europe/Berlin")  # Sunday 28 Mar 2027, 02:30 does not exist
    assert next_send(schedule, utc(2027, 3, 27)) == utc(2027, 3, 28, 1, 30)  # 03:30 CEST


def test_latest_period_for_preview():
    assert latest_period(BERLIN, utc(2026, 11, 25, 12)) == (date(2026, 11, 16), date(2026, 11, 22))
