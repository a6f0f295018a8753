"""Which renewal reminder is due on a day, and the right-size figure: table-driven."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core.renewals import (
    MISSED,
    local_day,
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
