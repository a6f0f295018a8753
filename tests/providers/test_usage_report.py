"""Periods and the pure rules behind reports, by table (the report types: tests/core/test_reports.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.periods import Period, parse_period, today_in
from core.reports import InactiveSeat
from providers.sendgrid.usage import sendgrid_rates
from providers.usage import SeatUser, inactive_order, is_active, is_paid, rate

D = date.fromisoformat


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("timezone", "now", "text", "start", "end"),
    [
        # 15:00 UTC on 1 June is already 2 June in Auckland, still 1 June in Los Angeles
        ("Pacific/Auckland", "2026-06-01T15:00:00+00:00", "last-7-days", "2026-05-26", "2026-06-01"),
        ("America/Los_Angeles", "2026-06-01T15:00:00+00:00", "last-7-days", "2026-05-25", "2026-05-31"),
        ("America/Los_Angeles", "2026-06-01T06:59:00+00:00", "last-7-days", "2026-05-24", "2026-05-30"),
        ("UTC", "2026-06-01T00:00:00+00:00", "last-30-days", "2026-05-02", "2026-05-31"),
        ("UTC", "2026-03-01T12:00:00+00:00", "LAST-30-DAYS", "2026-01-30", "2026-02-28"),
        ("Europe/Paris", "2026-06-01T12:00:00+00:00", "last-1-day", "2026-05-31", "2026-05-31"),
        ("Asia/Kolkata", "2026-06-01T12:00:00+00:00", "2026-05-01..2026-05-31", "2026-05-01", "2026-05-31"),
        ("UTC", "2026-06-01T12:00:00+00:00", " 2026-06-01 .. 2026-06-01 ", "2026-06-01", "2026-06-01"),
        ("UTC", "2024-03-01T12:00:00+00:00", "2024-02-28..2024-02-29", "2024-02-28", "2024-02-29"),
    ],
)
def test_parse_period(timezone, now, text, start, end):
    today = today_in(timezone, datetime.fromisoformat(now))
    assert parse_period(text, timezone=timezone, today=today) == Period(D(start), D(end), timezone)


@pytest.mark.parametrize(
    ("text", "timezone", "message"),
    [
        ("last-week", "UTC", "I don't understand the period 'last-week': use last-7-days"),
        ("", "UTC", "Say which period"),
        ("last-0-days", "UTC", "A period covers 1 to 366 days, not 0."),
        ("last-400-days", "UTC", "A period covers 1 to 366 days, not 400."),
        ("2026-13-01..2026-13-05", "UTC", "'2026-13-01' is not a date: write it as YYYY-MM-DD"),
        ("2026-5-1..2026-05-02", "UTC", "'2026-5-1' is not a date"),
        ("2026-05-31..2026-05-01", "UTC", "The period ends (2026-05-01) before it starts (2026-05-31)."),
        ("2026-05-01..2026-06-02", "UTC", "The period cannot end after today (2026-06-01)"),
        ("2025-01-01..2026-05-01", "UTC", "A period covers at most 366 days; this one has 486."),
        ("last-7-days", "Mars/Olympus", "'Mars/Olympus' is not a time zone I know"),
        ("last-7-days", "../etc/passwd", "is not a time zone I know"),
    ],
)
def test_bad_periods_say_what_is_wrong(text, timezone, message):
    with pytest.raises(ValueError) as error:
        parse_period(text, timezone=timezone, today=D("2026-06-01"))
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("timezone", "day", "start_utc", "hours"),
    [
        ("UTC", "2026-05-01", "2026-05-01T00:00:00+00:00", 24),
        ("America/New_York", "2026-03-08", "2026-03-08T05:00:00+00:00", 23),  # DST starts
        ("America/New_York", "2026-11-01", "2026-11-01T04:00:00+00:00", 25),  # DST ends
        ("Europe/London", "2026-10-25", "2026-10-24T23:00:00+00:00", 25),
        # Santiago's clocks jump from 00:00 to 01:00: the day starts at 01:00 local
        ("America/Santiago", "2026-09-06", "2026-09-06T04:00:00+00:00", 23),
        ("America/Santiago", "2026-04-04", "2026-04-04T03:00:00+00:00", 25),  # 23:00 happens twice
        ("Asia/Kathmandu", "2026-05-01", "2026-04-30T18:15:00+00:00", 24),
        ("Pacific/Kiritimati", "2026-05-01", "2026-04-30T10:00:00+00:00", 24),
    ],
)
def test_a_period_covers_whole_local_days(timezone, day, start_utc, hours):
    period = Period(D(day), D(day), timezone)
    assert period.start_utc == datetime.fromisoformat(start_utc)
    assert period.end_utc - period.start_utc == timedelta(hours=hours)
    assert period.start_utc.tzinfo == UTC and period.end_utc.tzinfo == UTC
    assert period.start_ms == int(period.start_utc.timestamp()) * 1000
    assert period.end_ms - period.start_ms == hours * 3_600_000
    assert period.contains(period.start_utc) and not period.contains(period.end_utc)
    assert period.contains(period.end_utc - timedelta(milliseconds=1))


def test_consecutive_periods_meet_exactly():
    may = Period(D("2026-05-01"), D("2026-05-31"), "Europe/Berlin")
    june = Period(D("2026-06-01"), D("2026-06-30"), "Europe/Berlin")
    assert may.end_utc == june.start_utc and may.days == 31
    assert may.to_json() == {"start": "2026-05-01", "end": "2026-05-31", "timezone": "Europe/Berlin"}


def test_today_in_needs_an_aware_instant():
    with pytest.raises(ValueError):
        today_in("UTC", datetime(2026, 6, 1))


# --------------------------------------------------------------------------- decisions


@pytest.mark.parametrize(
    ("seat_names", "role_ids", "billing_roles", "paid"),
    [
        ((), (), set(), False),
        (("Sales Hub Professional",), (), set(), True),
        ((), ("102",), {"102", "103"}, True),  # a billing role without a listed seat
        ((), ("101",), {"102", "103"}, False),
        (("Core Seat",), ("101",), {"102"}, True),
        ((), ("102",), set(), False),  # roles unknown: seatNames decide
    ],
)
def test_is_paid(seat_names, role_ids, billing_roles, paid):
    assert is_paid(SeatUser("1", "a@x.io", seat_names, role_ids), billing_roles) is paid


@pytest.mark.parametrize(
    ("logins", "crm_actions", "expected"),
    [
        (3, 0, (True, "logins")),
        (3, 5, (True, "logins")),
        (0, 5, (True, "crm_activity")),
        (None, 5, (True, "crm_activity")),  # logins unknown: CRM activity only
        (0, 0, (False, None)),
        (None, 0, (False, None)),
    ],
)
def test_is_active(logins, crm_actions, expected):
    assert is_active(logins, crm_actions) == expected


@pytest.mark.parametrize(("n", "d", "expected"), [(1, 4, 0.25), (0, 4, 0.0), (0, 0, None), (3, 0, None)])
def test_rate(n, d, expected):
    assert rate(n, d) == expected


def test_sendgrid_rates_use_the_documented_denominators():
    totals = {"requests": 200, "delivered": 100, "bounces": 10, "unique_opens": 40, "unique_clicks": 5}
    assert sendgrid_rates(totals) == {
        "delivered_rate": 0.5,
        "bounce_rate": 0.05,
        "open_rate": 0.4,
        "click_rate": 0.05,
        "spam_rate": 0.0,
    }
    assert set(sendgrid_rates({}).values()) == {None}


def test_inactive_seats_list_never_seen_first_then_least_recent():
    old, recent = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    seats = [
        InactiveSeat("1", "b@x.io", recent),
        InactiveSeat("2", "z@x.io", None),
        InactiveSeat("3", "c@x.io", old),
        InactiveSeat("4", "a@x.io", None),
    ]
    assert [s.user_id for s in sorted(seats, key=inactive_order)] == ["4", "2", "3", "1"]
