"""Renewal reminders on a moved clock through a year, with two replicas running the job: exactly the
five stages on their days (the owner's DM and the alerts channel, once each), the missed deadline once,
new dates start afresh, *Will cancel* stops them, *Remind me later* reminds once a week on; the
right-size figure is the count an independent reading of the stored snapshots gives."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.clock import FrozenClock
from services.renewals import RENEWAL_EVENT, Key
from tests.conftest import install
from tests.messages.test_digest import report
from tests.services.test_alerts import replica

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ALERTS = "C0ALERTS"
OWNER_DM = "D0002"  # the stand-in's DM with U0002 (conversations.open)
CONTRACT = {
    "provider": "hubspot",
    "seats": "100",
    "price": "10",
    "period": "month",
    "currency": "EUR",
    "start": "2026-09-30",
    "renewal": "2027-09-30",
    "notice_days": "30",
    "auto_renews": "yes",
    "owner": "U0002",
}
DEADLINE = date(2027, 8, 31)
STAGE_DAYS = {s: DEADLINE - timedelta(days=s) for s in (90, 60, 30, 14, 7)}


@pytest.fixture
def clock():
    return FrozenClock(START)


@pytest.fixture
async def replicas(storage, slack, settings, database_url, clock):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user("U0002")
    slack.add_channel(ALERTS, "alerts", member=True)
    await storage.alert_routes.set("T0001", ALERTS, "U0001")
    async with (
        replica(settings, database_url, clock, "r1") as one,
        replica(settings, database_url, clock, "r2") as two,
    ):
        yield one, two


def reminders(slack) -> list[tuple[str, str, str]]:
    """(channel, stage, the first line) of each reminder Slack accepted, in order (a post the stand-in's
    per-channel limit refused and the client made again counts once)."""
    found = []
    for channel in (OWNER_DM, ALERTS):
        for post in slack.posts_to(channel):
            meta = post.get("metadata") or {}
            if meta.get("event_type") == RENEWAL_EVENT:
                key = meta["event_payload"]["id"].split("|")
                found.append((float(post["ts"]), channel, key[3], post["text"]))
    return [(channel, stage, text) for _, channel, stage, text in sorted(found)]


async def days(clock, replicas, count: int) -> dict[date, list]:
    """Run both replicas' job at once, each day at 09:00 and 15:00, for `count` days."""
    for _ in range(count):
        for hour in (9, 15):
            clock.now = clock.now.replace(hour=hour)
            await asyncio.gather(*(r.renewals.run(clock()) for r in replicas))
        clock.now = clock.now.replace(hour=9) + timedelta(days=1)


async def test_five_reminders_on_their_days_once_each_then_the_missed_deadline_once(replicas, slack, clock):
    one, two = replicas
    saved, errors = await one.contracts.set("T0001", CONTRACT, "U0001")
    assert errors == {}
    sent_on: dict[tuple[str, str], date] = {}
    for _ in range(400):
        before = len(reminders(slack))
        await days(clock, replicas, 1)
        for channel, stage, _ in reminders(slack)[before:]:
            assert (channel, stage) not in sent_on, f"stage {stage} twice in {channel}"
            sent_on[(channel, stage)] = (clock.now - timedelta(days=1)).date()
    expected = {(c, str(s)): d for s, d in STAGE_DAYS.items() for c in (OWNER_DM, ALERTS)}
    expected |= {(c, "0"): DEADLINE + timedelta(days=1) for c in (OWNER_DM, ALERTS)}
    assert sent_on == expected
    first = next(text for channel, stage, text in reminders(slack) if stage == "90")
    assert first.startswith(":date: *HubSpot*: the notice deadline is *2027-08-31* (90 days left)")


async def test_the_right_size_is_the_peak_of_the_last_12_weeks_plus_10_percent(
    replicas, storage, slack, clock
):
    one, _ = replicas
    await one.contracts.set("T0001", CONTRACT, "U0001")
    reminder_day = STAGE_DAYS[90]
    active = [58, 61, 66, 60, 59, 63, 64, 62, 57, 60, 61, 65, 99]  # the last: 13 weeks back, not counted
    for weeks, count in enumerate(active):
        end = reminder_day - timedelta(days=1 + 7 * weeks)
        await storage.snapshots.save(report(paid=100, active_paid=count, team="T0001", end=end.isoformat()))
    window = [
        a
        for w, a in enumerate(active)
        if reminder_day - timedelta(days=1 + 7 * w) > reminder_day - timedelta(weeks=12)
    ]
    peak = max(window)
    assert peak == 66 and len(window) == 12
    recommended = math.ceil(peak * 110 / 100)
    saving = (100 - recommended) * 10 * 12
    clock.now = datetime.combine(reminder_day, START.timetz())
    await one.renewals.run(clock())
    text = slack.posts_to(OWNER_DM)[0]["blocks"][0]["text"]["text"]
    assert (
        f"*Renew {recommended} seats, not 100:* peak use {peak} plus 10 % headroom saves €{saving:,} a year."
        in text
    )
    assert "Renew 73 seats, not 100:* peak use 66 plus 10 % headroom saves €3,240 a year." in text
    assert "Renewing as it is: 100 seats, €12,000 a year." in text
    assert f"peak 66 active seats, {sum(window) / 12:.1f} on average (12 periods stored)" in text


async def test_new_dates_start_the_stages_afresh(replicas, slack, clock):
    one, _ = replicas
    await one.contracts.set("T0001", CONTRACT, "U0001")
    await days(clock, replicas, (STAGE_DAYS[60] - START.date()).days + 1)
    assert [s for c, s, _ in reminders(slack) if c == OWNER_DM] == ["90", "60"]
    # renewed early, as *Mark renewed* saves it: the next term's dates
    await one.contracts.set(
        "T0001", {"provider": "hubspot", "start": "2027-09-30", "renewal": "2028-09-30"}, "U0001"
    )
    await days(clock, replicas, 500)
    owner = [s for c, s, _ in reminders(slack) if c == OWNER_DM]
    assert owner == ["90", "60", "90", "60", "30", "14", "7", "0"]


async def test_will_cancel_stops_and_remind_me_later_reminds_once_a_week_on(replicas, storage, slack, clock):
    one, two = replicas
    saved, _ = await one.contracts.set("T0001", CONTRACT, "U0001")
    await days(clock, replicas, (STAGE_DAYS[90] - START.date()).days + 1)
    key = Key("T0001", "hubspot", saved.dates_rev, 90)
    until = await one.renewals.later(key, "U0002")
    assert until == clock.now.date() + timedelta(days=7)  # a week after the click
    assert await two.renewals.later(key, "U0002") is None  # the first answer stands
    await days(clock, replicas, 8)
    owner = [s for c, s, _ in reminders(slack) if c == OWNER_DM]
    channel = [s for c, s, _ in reminders(slack) if c == ALERTS]
    assert owner == ["90", "90"] and channel == ["90"]  # reminded again, the owner only, once
    assert await one.renewals.will_cancel(Key("T0001", "hubspot", saved.dates_rev, 60), "U0002") is False
    await days(clock, replicas, (STAGE_DAYS[60] - clock.now.date()).days + 1)
    assert await one.renewals.will_cancel(Key("T0001", "hubspot", saved.dates_rev, 60), "U0002") is True
    await days(clock, replicas, 200)
    assert [s for c, s, _ in reminders(slack) if c == OWNER_DM] == [
        "90",
        "90",
        "60",
    ]  # then nothing, not even missed


@pytest.mark.parametrize(
    "how, posted",
    [("contract settings", True), ("digest subscription", True), ("neither: UTC", False)],
)
async def test_the_days_are_the_workspaces(replicas, storage, slack, clock, how, posted):
    """A stage's day starts at 09:00 in the workspace's timezone (working hours, not midnight): 00:30 on
    the 90-day stage's day in Tokyo (15:30 UTC the day before) is too early; 09:30 in Tokyo (00:30 UTC)
    a Tokyo workspace (set for its contracts, or its digest subscription's timezone) is reminded, "90
    days left"; a UTC one at 09:00 UTC."""
    from services.digest_schedule import WEEKLY, Schedule
    from tests.conftest import subscribe_due

    one, _ = replicas
    await one.contracts.set("T0001", CONTRACT, "U0001")
    if how == "contract settings":
        saved, problem = await one.contracts.set_settings("T0001", "U0001", timezone="Asia/Tokyo")
        assert problem is None and saved.timezone == "Asia/Tokyo"
    elif how == "digest subscription":
        tokyo = Schedule(WEEKLY, 0, "09:00", "Asia/Tokyo")
        await subscribe_due(storage, "T0001", "C0DIGEST", tokyo, clock())
    the_day_before = datetime.combine(STAGE_DAYS[90] - timedelta(days=1), datetime.min.time(), UTC)
    for hour, minute in ((14, 30), (15, 30), (23, 59)):  # 23:30, 00:30 and 08:59 in Tokyo
        clock.now = the_day_before.replace(hour=hour, minute=minute)
        await one.renewals.run(clock())
        assert reminders(slack) == []
    clock.now = the_day_before + timedelta(days=1, minutes=30)  # 09:30 in Tokyo, 00:30 in UTC
    await one.renewals.run(clock())
    found = [(channel, stage) for channel, stage, _ in reminders(slack)]
    assert found == ([(OWNER_DM, "90"), (ALERTS, "90")] if posted else [])
    if posted:
        assert "(90 days left)" in reminders(slack)[0][2]
    clock.now = datetime.combine(STAGE_DAYS[90], START.timetz()) - timedelta(minutes=1)  # 08:59 UTC
    await one.renewals.run(clock())
    assert len(reminders(slack)) == (2 if posted else 0)
    clock.now = datetime.combine(STAGE_DAYS[90], START.timetz())
    await one.renewals.run(clock())
    assert [(channel, stage) for channel, stage, _ in reminders(slack)] == [(OWNER_DM, "90"), (ALERTS, "90")]


async def test_the_reminder_hour_is_the_workspaces(replicas, slack, clock):
    """`contracts settings --hour 14`: the stage's day starts at 14:00 in the workspace's days (UTC)."""
    one, _ = replicas
    await one.contracts.set("T0001", CONTRACT, "U0001")
    saved, problem = await one.contracts.set_settings("T0001", "U0001", hour="14:00")
    assert problem is None and saved.reminder_hour == 14
    for at in (time(9, 0), time(13, 59)):
        clock.now = datetime.combine(STAGE_DAYS[90], at, UTC)
        await one.renewals.run(clock())
    assert reminders(slack) == []
    clock.now = datetime.combine(STAGE_DAYS[90], time(14, 0), UTC)
    await one.renewals.run(clock())
    assert [(channel, stage) for channel, stage, _ in reminders(slack)] == [(OWNER_DM, "90"), (ALERTS, "90")]
