"""Which renewal reminder is due on a day, and the right-size figure: table-driven."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core.renewals import (
    HOUR_SENTENCE,
    MISSED,
    REMIND_FROM_HOUR,
    local_day,
    parse_hour,
    reminder_day,
    right_size,
    stage_due,
    utilisation,
    workspace_timezone,
)

DEADLINE = date(2027, 6, 1)
STAGES = (90, 60, 30, 14, 7)


def day(before: int) -> date:
    return DEADLINE - timedelta(days=before)


@pytest.mark.parametrize(
    ("today", "sent", "stopped", "due"),
    [
        (day(120), set(), False, None),
        (day(91), set(), False, None),
        (day(90), set(), False, 90),
        (day(89), {90}, False, None),
        (day(89), set(), False, 90),  # a day late (nothing ran): still the 90-day one
        (day(60), {90}, False, 60),
        (day(45), {90, 60}, False, None),
        (day(20), {90}, False, 30),  # 60 was missed while nothing ran: not sent late
        (day(30), {90, 60}, False, 30),
        (day(14), {90, 60, 30}, False, 14),
        (day(7), {90, 60, 30, 14}, False, 7),
        (day(0), {90, 60, 30, 14, 7}, False, None),  # the deadline day itself: the last chance, said at 7
        (day(-1), {90, 60, 30, 14, 7}, False, MISSED),
        (day(-40), {90, 60, 30, 14, 7, MISSED}, False, None),  # said once
        (day(-1), set(), False, MISSED),
        (day(-30), set(), False, MISSED),
        (day(-31), set(), False, None),  # entered long after its deadline: nothing to say
        (day(14), {90, 60, 30}, True, None),  # the owner will cancel
        (day(-1), {7}, True, None),
        (day(10), {7}, False, None),  # a later stage went out already
    ],
)
def test_stage_due(today, sent, stopped, due):
    assert stage_due(today, DEADLINE, STAGES, sent, stopped=stopped) == due


@pytest.mark.parametrize(
    ("stages", "today", "due"), [((30,), day(30), 30), ((30,), day(60), None), ((120, 1), day(1), 1)]
)
def test_stages_are_the_workspaces(stages, today, due):
    assert stage_due(today, DEADLINE, stages, set()) == due


@pytest.mark.parametrize(
    ("peak", "headroom", "seats"),
    [(66, 10, 73), (60, 10, 66), (0, 10, 0), (1, 10, 2), (100, 0, 100), (9, 25, 12)],
)
def test_right_size(peak, headroom, seats):
    assert right_size(peak, headroom) == seats


def test_utilisation():
    assert utilisation([]) is None
    found = utilisation([60, 66, 63])
    assert (found.peak, found.average, found.periods) == (66, 63, 3)


# --- the workspace's day --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("chosen", "subscribed", "timezone"),
    [
        ("Asia/Tokyo", ["Europe/Berlin"], "Asia/Tokyo"),  # set for the contracts: it wins
        (None, ["Europe/Berlin", "Asia/Tokyo"], "Europe/Berlin"),  # the (first) digest subscription's
        (None, ["", "Asia/Tokyo"], "Asia/Tokyo"),
        (None, [], "UTC"),
    ],
)
def test_the_workspace_timezone(chosen, subscribed, timezone):
    assert workspace_timezone(chosen, subscribed) == timezone


# 90 days before the deadline is 2027-03-03: in Tokyo (UTC+9) that day starts at 2027-03-02 15:00 UTC
STAGE_DAY = day(90)


@pytest.mark.parametrize(
    ("now", "timezone", "today", "due"),
    [
        (datetime(2027, 3, 2, 14, 59, tzinfo=UTC), "Asia/Tokyo", day(91), None),  # 23:59 in Tokyo
        (datetime(2027, 3, 2, 15, 0, tzinfo=UTC), "Asia/Tokyo", STAGE_DAY, 90),  # midnight in Tokyo
        (datetime(2027, 3, 2, 15, 0, tzinfo=UTC), "UTC", day(91), None),  # still yesterday in UTC
        (datetime(2027, 3, 2, 23, 59, tzinfo=UTC), "UTC", day(91), None),
        (datetime(2027, 3, 3, 0, 0, tzinfo=UTC), "UTC", STAGE_DAY, 90),
        (datetime(2027, 3, 3, 4, 59, tzinfo=UTC), "America/New_York", day(91), None),  # 23:59 EST
        (datetime(2027, 3, 3, 5, 0, tzinfo=UTC), "America/New_York", STAGE_DAY, 90),
        (datetime(2027, 3, 2, 15, 0, tzinfo=UTC), "Not/AZone", day(91), None),  # unknown: UTC
        # the deadline itself: passed in Tokyo (MISSED), not yet in UTC
        (datetime(2027, 6, 1, 15, 0, tzinfo=UTC), "Asia/Tokyo", DEADLINE + timedelta(days=1), MISSED),
        (datetime(2027, 6, 1, 15, 0, tzinfo=UTC), "UTC", DEADLINE, None),
    ],
)
def test_the_stage_due_is_the_workspace_days_around_midnight(now, timezone, today, due):
    assert STAGE_DAY == date(2027, 3, 3)
    assert local_day(now, timezone) == today
    sent = {90, 60, 30, 14, 7} if today >= DEADLINE else set()
    assert stage_due(local_day(now, timezone), DEADLINE, STAGES, sent) == due


# --- from the workspace's reminder hour (09:00 by default), not its midnight ---------------------------
# The 90-day stage's day, 2027-03-03, reaches 09:00 at 00:00 UTC in Tokyo (UTC+9), 09:00 UTC in UTC,
# 14:00 UTC in New York (EST, UTC-5). Until then the day counted is the one before: nothing is due.
@pytest.mark.parametrize(
    ("now", "timezone", "hour", "counted", "due"),
    [
        (datetime(2027, 3, 2, 15, 0, tzinfo=UTC), "Asia/Tokyo", 9, day(91), None),  # midnight in Tokyo
        (datetime(2027, 3, 2, 23, 59, tzinfo=UTC), "Asia/Tokyo", 9, day(91), None),  # 08:59 in Tokyo
        (datetime(2027, 3, 3, 0, 0, tzinfo=UTC), "Asia/Tokyo", 9, STAGE_DAY, 90),  # 09:00 in Tokyo
        (datetime(2027, 3, 3, 14, 59, tzinfo=UTC), "Asia/Tokyo", 9, STAGE_DAY, 90),  # 23:59 in Tokyo
        (datetime(2027, 3, 3, 0, 0, tzinfo=UTC), "UTC", 9, day(91), None),  # midnight in UTC
        (datetime(2027, 3, 3, 8, 59, tzinfo=UTC), "UTC", 9, day(91), None),
        (datetime(2027, 3, 3, 9, 0, tzinfo=UTC), "UTC", 9, STAGE_DAY, 90),
        (datetime(2027, 3, 3, 5, 0, tzinfo=UTC), "America/New_York", 9, day(91), None),  # midnight EST
        (datetime(2027, 3, 3, 13, 59, tzinfo=UTC), "America/New_York", 9, day(91), None),  # 08:59 EST
        (datetime(2027, 3, 3, 14, 0, tzinfo=UTC), "America/New_York", 9, STAGE_DAY, 90),  # 09:00 EST
        (datetime(2027, 3, 4, 4, 59, tzinfo=UTC), "America/New_York", 9, STAGE_DAY, 90),  # 23:59 EST
        (datetime(2027, 3, 3, 9, 0, tzinfo=UTC), "Not/AZone", 9, STAGE_DAY, 90),  # unknown: UTC
        # the hour is the workspace's: 0 is the old behaviour (local midnight), 23 the evening
        (datetime(2027, 3, 3, 0, 0, tzinfo=UTC), "UTC", 0, STAGE_DAY, 90),
        (datetime(2027, 3, 2, 23, 59, tzinfo=UTC), "UTC", 0, day(91), None),
        (datetime(2027, 3, 3, 22, 59, tzinfo=UTC), "UTC", 23, day(91), None),
        (datetime(2027, 3, 3, 23, 0, tzinfo=UTC), "UTC", 23, STAGE_DAY, 90),
        # New York's clocks go forward on 2027-03-14 (02:00 -> 03:00 EDT, UTC-4): 09:00 is 13:00 UTC
        # (the 90-day stage, not yet sent, is still the one due: day rules unchanged)
        (datetime(2027, 3, 14, 12, 59, tzinfo=UTC), "America/New_York", 9, date(2027, 3, 13), 90),
        (datetime(2027, 3, 14, 13, 0, tzinfo=UTC), "America/New_York", 9, date(2027, 3, 14), 90),
        # the deadline passed: said from 09:00 the day after, in Tokyo and New York alike
        (datetime(2027, 6, 1, 23, 59, tzinfo=UTC), "Asia/Tokyo", 9, DEADLINE, None),  # 08:59 on 2 June
        (datetime(2027, 6, 2, 0, 0, tzinfo=UTC), "Asia/Tokyo", 9, DEADLINE + timedelta(days=1), MISSED),
        (datetime(2027, 6, 2, 12, 59, tzinfo=UTC), "America/New_York", 9, DEADLINE, None),  # 08:59 EDT
        (
            datetime(2027, 6, 2, 13, 0, tzinfo=UTC),
            "America/New_York",
            9,
            DEADLINE + timedelta(days=1),
            MISSED,
        ),
    ],
)
def test_a_stage_is_due_from_the_workspaces_reminder_hour(now, timezone, hour, counted, due):
    assert reminder_day(now, timezone, hour) == counted
    sent = {90, 60, 30, 14, 7} if counted >= DEADLINE else set()
    assert stage_due(counted, DEADLINE, STAGES, sent) == due


def test_the_default_hour_is_nine():
    assert REMIND_FROM_HOUR == 9
    assert reminder_day(datetime(2027, 3, 3, 9, 0, tzinfo=UTC), "UTC") == STAGE_DAY


@pytest.mark.parametrize(
    ("text", "hour"), [("9", 9), ("09", 9), ("09:00", 9), (" 0 ", 0), ("23", 23), ("23:00", 23)]
)
def test_parse_hour(text, hour):
    assert parse_hour(text) == hour


@pytest.mark.parametrize("text", ["", "24", "9:30", "09:0", "-1", "nine", "٩", "1 2", "009"])
def test_parse_hour_refuses_with_one_sentence(text):
    with pytest.raises(ValueError, match=f"^{HOUR_SENTENCE}$"):
        parse_hour(text)
