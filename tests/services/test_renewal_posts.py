"""Renewal reminders exactly once (issue 26, item 2): each destination (the owner's DM, the alerts
channel) is posted once whatever Slack or a replica does: Slack failing first, two replicas racing, a
claim whose holder died, a post Slack took whose answer was lost, a refusal. On SQLite and PostgreSQL
(the `storage` fixture). The clock is the real day, frozen, and the contract's dates are counted from
it, because the Slack stand-in stamps posts with the real time and a lost answer is looked for by it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.clock import FrozenClock, utcnow
from core.renewals import UTC_NAME, reminder_day
from providers.registry import INSTALLED
from services.renewal_posts import MAX_ATTEMPTS, RENEWAL_EVENT
from services.renewals import Key, RenewalsService
from services.slack_clients import SlackClients
from storage.renewals import CHANNEL, OWNER, ReminderStore
from tests.conftest import install
from tests.services.test_alerts import replica

ALERTS = "C0ALERTS"
OWNER_DM = "D0002"  # the stand-in's DM with U0002 (conversations.open)
HISTORY = ",channels:history,im:history"


@pytest.fixture
def clock():
    return FrozenClock(utcnow().replace(microsecond=0))


@pytest.fixture
def contract(clock):
    """A contract whose 90-day stage is due now: notice deadline 90 days after the day the reminders
    count now (today from 09:00 UTC, else yesterday), 30 days' notice."""
    deadline = reminder_day(clock(), UTC_NAME) + timedelta(days=90)
    return {
        "provider": "hubspot",
        "seats": "100",
        "price": "10",
        "period": "month",
        "currency": "EUR",
        "start": (deadline - timedelta(days=335)).isoformat(),
        "renewal": (deadline + timedelta(days=30)).isoformat(),
        "notice_days": "30",
        "owner": "U0002",
    }


@pytest.fixture
async def workspace(storage, slack, contract):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user("U0002")
    slack.add_channel(ALERTS, "alerts", member=True)
    await storage.alert_routes.set("T0001", ALERTS, "U0001")
    saved = await storage.contracts.save("T0001", _parsed(contract), "U0001")
    return saved


def _parsed(raw: dict):
    from core.contracts import parse

    made, errors = parse(raw, lambda name: name if name == "hubspot" else None)
    assert errors == {}
    return made


def service(storage, settings, clock, timeout: float = 15, lease=timedelta(minutes=10)) -> RenewalsService:
    return RenewalsService(
        storage=storage,
        registry=INSTALLED,
        slack_clients=SlackClients(settings, storage.installations, timeout=timeout),
        clock=clock,
        lease=lease,
    )


def posts(slack) -> dict[str, list[dict]]:
    """The reminder posts Slack holds, by destination."""
    found = {}
    for channel in (OWNER_DM, ALERTS):
        found[channel] = [
            p for p in slack.posts_to(channel) if (p.get("metadata") or {}).get("event_type") == RENEWAL_EVENT
        ]
    return found


def counts(slack) -> tuple[int, int]:
    found = posts(slack)
    return len(found[OWNER_DM]), len(found[ALERTS])


async def states(storage) -> dict[str, str]:
    return {row["destination"]: row["state"] for row in await storage.reminders.posts()}


async def test_slack_failing_on_the_first_attempt_posts_on_the_next_run_once(
    workspace, storage, slack, settings, clock
):
    reminders = service(storage, settings, clock)
    slack.fail_next("chat.postMessage", "service_unavailable", count=2, status=503)
    assert await reminders.run(clock()) == 0
    assert counts(slack) == (0, 0)
    assert await states(storage) == {OWNER: "pending", CHANNEL: "pending"}
    clock.advance(hours=1)  # the next hourly run
    assert await reminders.run(clock()) == 2
    assert counts(slack) == (1, 1)
    for _ in range(3):
        clock.advance(hours=1)
        assert await reminders.run(clock()) == 0
    assert counts(slack) == (1, 1)
    assert await states(storage) == {OWNER: "posted", CHANNEL: "posted"}
    stored = {row["destination"]: row["ts"] for row in await storage.reminders.posts()}
    assert stored == {OWNER: posts(slack)[OWNER_DM][0]["ts"], CHANNEL: posts(slack)[ALERTS][0]["ts"]}


async def test_two_replicas_racing_post_once_per_destination(workspace, settings, database_url, slack, clock):
    slack.latency = 0.2  # every Slack call takes a while: the replicas overlap
    async with (
        replica(settings, database_url, clock, "r1") as one,
        replica(settings, database_url, clock, "r2") as two,
    ):
        done = await asyncio.gather(one.renewals.run(clock()), two.renewals.run(clock()))
        assert sum(done) == 2
        await asyncio.gather(one.renewals.run(clock()), two.renewals.run(clock()))
        assert counts(slack) == (1, 1)
        rows = await one.storage.reminders.posts()
    assert sorted((r["destination"], r["state"], r["attempts"]) for r in rows) == [
        (CHANNEL, "posted", 1),
        (OWNER, "posted", 1),
    ]


@pytest.mark.parametrize("posted_before", [True, False], ids=["its post reached Slack", "it died first"])
async def test_a_claim_whose_holder_died_is_taken_after_its_lease_and_posted_once(
    workspace, storage, slack, settings, clock, posted_before
):
    slack.workspaces["T0001"].scopes += HISTORY
    reminders = service(storage, settings, clock)
    rev = workspace.dates_rev
    assert await storage.reminders.decide("T0001", "hubspot", rev, 90, (OWNER, CHANNEL))
    dead = ReminderStore(storage.db, "dead-replica", clock)
    claimed = await dead.claim(clock(), timedelta(minutes=1), limit=2)
    assert len(claimed) == 2 and all([await dead.start_post(p) for p in claimed])
    if posted_before:  # the dead replica's posts reached Slack; their answers never reached the database
        client = await reminders.slack_clients("T0001")
        for channel, destination in ((OWNER_DM, OWNER), (ALERTS, CHANNEL)):
            key = f"{Key('T0001', 'hubspot', rev, 90).text()}|{destination}"
            await client.chat_postMessage(
                channel=channel,
                text="reminder",
                metadata={"event_type": RENEWAL_EVENT, "event_payload": {"id": key}},
            )
    assert await reminders.run(clock()) == 0  # the lease still holds: nobody else posts
    assert counts(slack) == ((1, 1) if posted_before else (0, 0))
    clock.advance(minutes=5)  # the dead claim's lease lapsed
    assert await reminders.run(clock()) == 2
    assert counts(slack) == (1, 1)
    assert len(slack.calls_to("conversations.history")) == 2  # looked before posting, once each
    clock.advance(hours=1)
    assert await reminders.run(clock()) == 0
    assert counts(slack) == (1, 1)
    rows = await storage.reminders.posts()
    assert {(r["state"], r["claimed_by"], r["attempts"]) for r in rows} == {("posted", "test", 2)}


@pytest.mark.parametrize("history, state, ts", [(HISTORY, "posted", True), ("", "uncertain", False)])
async def test_a_post_slack_took_whose_answer_was_lost_is_never_posted_twice(
    workspace, storage, slack, settings, clock, history, state, ts
):
    slack.workspaces["T0001"].scopes += history
    reminders = service(storage, settings, clock, timeout=2)
    slack.answer_slowly("chat.postMessage", 5, count=2)  # Slack posts at once, answers after the bot gave up
    await reminders.run(clock())
    assert counts(slack) == (1, 1)
    for _ in range(3):
        clock.advance(hours=1)
        await reminders.run(clock())
    assert counts(slack) == (1, 1)
    rows = await storage.reminders.posts()
    assert {r["destination"]: r["state"] for r in rows} == {OWNER: state, CHANNEL: state}
    found = posts(slack)
    expected = {OWNER: found[OWNER_DM][0]["ts"], CHANNEL: found[ALERTS][0]["ts"]} if ts else {}
    assert {r["destination"]: r["ts"] for r in rows if r["ts"]} == expected


async def test_the_owners_dm_is_read_back_with_im_history_and_left_uncertain_without_it(
    workspace, storage, slack, settings, clock
):
    """The manifest's optional scopes, granted one by one: channels:history finds the channel's post;
    the owner's DM needs im:history (issue 26). Declined, the DM stays uncertain: never a second DM."""
    from bot.slack_app import BOT_OPTIONAL_SCOPES

    assert "im:history" in BOT_OPTIONAL_SCOPES  # the install asks for it; the installer may decline
    slack.workspaces["T0001"].scopes += ",channels:history"
    reminders = service(storage, settings, clock, timeout=2)
    slack.answer_slowly("chat.postMessage", 5, count=2)  # both taken, neither answer arrives in time
    await reminders.run(clock())
    for _ in range(3):
        clock.advance(hours=1)
        await reminders.run(clock())
    assert counts(slack) == (1, 1)
    assert await states(storage) == {OWNER: "uncertain", CHANNEL: "posted"}
    looked = {c.args.get("channel") for c in slack.calls_to("conversations.history")}
    assert ALERTS in looked  # the DM was asked for too, and Slack answered missing_scope


async def test_a_failure_slack_answers_is_retried_but_not_for_ever(
    workspace, storage, slack, settings, clock
):
    reminders = service(storage, settings, clock)
    slack.fail_next("chat.postMessage", "service_unavailable", count=10 * MAX_ATTEMPTS, status=503)
    for _ in range(MAX_ATTEMPTS + 5):
        await reminders.run(clock())
        clock.advance(hours=1)
    rows = [(r["state"], r["error"], r["attempts"]) for r in await storage.reminders.posts()]
    assert rows == [("refused", "service_unavailable", MAX_ATTEMPTS)] * 2
    assert len(slack.calls_to("chat.postMessage")) == 2 * MAX_ATTEMPTS
    assert slack.calls_to("conversations.history") == []  # Slack answered each time: nothing to look for


async def test_the_alerts_channel_refusing_is_not_retried(workspace, storage, slack, settings, clock):
    reminders = service(storage, settings, clock)
    slack.refuse_channel(ALERTS, "channel_not_found")
    assert await reminders.run(clock()) == 1
    for _ in range(3):
        clock.advance(hours=1)
        await reminders.run(clock())
    assert counts(slack) == (1, 0)
    calls = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALERTS]
    assert len(calls) == 1
    rows = {r["destination"]: (r["state"], r["error"]) for r in await storage.reminders.posts()}
    assert rows == {OWNER: ("posted", None), CHANNEL: ("refused", "channel_not_found")}


async def test_reminders_recorded_before_posts_were_tracked_are_not_sent_again(
    workspace, storage, slack, settings, clock
):
    """A row the old table holds without post rows (what migration 0017 leaves) was sent."""
    await storage.reminders.decide("T0001", "hubspot", workspace.dates_rev, 90, ())
    assert await service(storage, settings, clock).run(clock()) == 0
    assert counts(slack) == (0, 0) and await storage.reminders.posts() == []
