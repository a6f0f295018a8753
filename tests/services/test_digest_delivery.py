"""Exactly one digest post when Slack answers late (issue 21, item 4) and when a delivery outlives its
lease (item 5), against the Slack stand-in, on SQLite and PostgreSQL (the `storage` fixture)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from messages import digest as db
from services.digest_schedule import WEEKLY, Schedule
from services.digests import EVENT_TYPE, DigestService
from services.slack_clients import SlackClients
from tests.conftest import install
from tests.services.test_digests import MovingClock

SEND = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 Europe/Berlin
BERLIN = Schedule(WEEKLY, 0, "09:00", "Europe/Berlin")
HISTORY = ",channels:history,groups:history"
SHORT_LEASE = timedelta(seconds=1)


@pytest.fixture
def clock():
    return MovingClock(SEND - timedelta(days=1))


async def no_collection(connection, period):  # no provider is connected: nothing is collected
    raise AssertionError("nothing to collect")


def service(storage, settings, clock, replica="replica-a", *, lease=timedelta(minutes=10), **slack):
    """A DigestService as the container builds it, with Slack's timeout and a slow start to choose."""
    clients = SlackClients(settings, storage.installations, timeout=slack.get("timeout", 15))
    pause = slack.get("pause", 0.0)

    async def slack_client(team_id):  # `pause`: the work before posting takes this long
        await asyncio.sleep(pause)
        return await clients(team_id)

    return DigestService(
        store=storage.digests,
        snapshots=storage.snapshots,
        connections=storage.connections,
        slack=slack_client,
        collect=no_collection,
        clock=clock,
        replica=replica,
        lease=lease,
        concurrency=2,
    )


@pytest.fixture
async def due(storage, slack, settings, clock):
    """C0001 subscribed by U0001, its digest due now (SEND); returns a function making the service."""
    await install(storage, slack)
    slack.add_user("U0001")
    slack.add_channel("C0001", "general", member=True)
    await service(storage, settings, clock).subscribe(
        team_id="T0001",
        channel_id="C0001",
        user_id="U0001",
        schedule=BERLIN,
    )
    clock.now = SEND
    return lambda replica="replica-a", **kw: service(storage, settings, clock, replica, **kw)


def grant_history(slack) -> None:
    slack.workspaces["T0001"].scopes += HISTORY


def dms(slack) -> list[str]:
    return [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0001"]


# --- item 4: an answer that never comes -------------------------------------------------------
async def test_a_slow_answer_is_found_in_history_and_never_posted_twice(due, storage, slack, clock):
    grant_history(slack)
    # the bot gives up on chat.postMessage after 2 s; the look in history that follows must not time out
    # too (with 1 s it did, on CI's loaded machine)
    digests = due(timeout=2)
    slack.answer_slowly("chat.postMessage", 5)  # Slack posts at once, answers after the bot gave up
    outcome = await digests.run(SEND)
    assert outcome.posted == 1
    (post,) = slack.posts_to("C0001")
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["state"], delivery["ts"], delivery["channel_id"]) == ("posted", post["ts"], "C0001")
    assert post["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"id": str(delivery["id"])}}
    history = slack.calls_to("conversations.history")
    assert history and history[0].args["channel"] == "C0001"
    clock.now = SEND + timedelta(minutes=10)  # past any retry
    assert (await digests.run(clock.now)).posted == 0
    assert len(slack.posts_to("C0001")) == 1 and dms(slack) == []


@pytest.mark.parametrize(
    "history, member, reason",
    [("", True, "missing_scope"), (HISTORY, False, "not_in_channel")],
    ids=["no history scope", "bot not in the public channel"],
)
async def test_a_slow_answer_that_cannot_be_checked_is_uncertain_and_told_once(
    due, storage, slack, clock, history, member, reason
):
    slack.workspaces["T0001"].scopes += history
    slack.channels["C0001"].is_member = member
    digests = due(timeout=2)  # 1 s let the history look time out too on a loaded machine: "retrying"
    slack.answer_slowly("chat.postMessage", 5)
    outcome = await digests.run(SEND)
    assert (outcome.posted, outcome.uncertain) == (0, 1)
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["state"], delivery["error"], delivery["ts"]) == ("uncertain", reason, None)
    assert dms(slack) == [db.UNCERTAIN_DM.format(channel="C0001")]
    for minutes in (3, 10, 60):  # later runs neither post again nor tell again
        clock.now = SEND + timedelta(minutes=minutes)
        await digests.run(clock.now)
    assert len(slack.posts_to("C0001")) == 1 and len(dms(slack)) == 1
    assert (await storage.digests.get("T0001", "C0001")).status == "active"  # next week's goes out


@pytest.mark.parametrize(
    "history, posted_before, state, posts",
    [
        (HISTORY, True, "posted", 1),  # the earlier post is found: its ts is stored
        (HISTORY, False, "posted", 1),  # looked, nothing there: posted now
        ("", True, "uncertain", 1),  # cannot look: not posted again
        ("", False, "uncertain", 0),  # cannot look: not posted, though nothing was there
    ],
)
async def test_an_attempt_that_died_mid_post_is_looked_for_before_posting(
    due, storage, slack, clock, history, posted_before, state, posts
):
    slack.workspaces["T0001"].scopes += history
    digests = due()
    await digests.schedule_due(SEND)
    (dead,) = await storage.digests.claim("dead-replica", SEND, SHORT_LEASE)
    assert await storage.digests.start_post(dead)
    if posted_before:  # the dead replica's post reached Slack, its answer never reached the database
        client = await digests.slack("T0001")
        await client.chat_postMessage(
            channel="C0001",
            text="digest",
            metadata={"event_type": EVENT_TYPE, "event_payload": {"id": str(dead.id)}},
        )
    clock.now = SEND + timedelta(minutes=1)  # the dead claim's lease lapsed
    await digests.run(clock.now)
    (delivery,) = await storage.digests.deliveries()
    assert delivery["state"] == state
    assert len(slack.posts_to("C0001")) == posts
    assert len(slack.calls_to("conversations.history")) == 1  # looked before posting, once
    if state == "posted":
        assert delivery["ts"] == slack.posts_to("C0001")[0]["ts"]


# --- item 5: a delivery that outlives its lease -----------------------------------------------
async def test_a_delivery_longer_than_its_lease_keeps_it_and_posts_once(due, storage, slack, clock):
    slow = due("replica-a", lease=SHORT_LEASE, pause=2.5)  # works 2.5 s on a 1 s lease
    other = due("replica-b", lease=SHORT_LEASE)
    first = asyncio.create_task(slow.run(SEND))
    await asyncio.sleep(1.6)  # replica-a's first lease lapsed by now, had it not been renewed
    assert (await other.run(clock.now)).posted == 0
    assert (await first).posted == 1
    assert len(slack.posts_to("C0001")) == 1
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["state"], delivery["claimed_by"], delivery["attempts"]) == ("posted", "replica-a", 1)


async def test_a_replica_that_lost_its_claim_before_posting_posts_nothing(due, storage, slack, clock):
    slow = due("replica-a", lease=timedelta(minutes=10), pause=1.5)
    first = asyncio.create_task(slow.run(SEND))
    await asyncio.sleep(0.5)
    # replica-a stalled past its lease (say): replica-b took the claim meanwhile
    (taken,) = await storage.digests.claim(
        "replica-b", SEND, SHORT_LEASE, lease_from=clock.now + timedelta(hours=1)
    )
    assert taken.attempts == 2
    assert (await first).posted == 0
    assert slack.posts_to("C0001") == []
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["state"], delivery["claimed_by"], delivery["post_started_at"]) == (
        "pending",
        "replica-b",
        None,
    )


async def test_a_claim_lost_during_the_post_records_nothing_and_the_new_holder_finds_the_post(
    due, storage, slack, clock
):
    grant_history(slack)
    slow = due("replica-a", lease=timedelta(minutes=10))
    slack.answer_slowly("chat.postMessage", 3)  # replica-a waits for Slack's answer
    first = asyncio.create_task(slow.run(SEND))
    # replica-b takes the claim once replica-a's post has reached Slack (a fixed 0.7 s came too early
    # on a loaded machine: replica-a had not started posting yet)
    for _ in range(200):
        if slack.calls_to("chat.postMessage"):
            break
        await asyncio.sleep(0.05)
    (taken,) = await storage.digests.claim(
        "replica-b", SEND, SHORT_LEASE, lease_from=clock.now + timedelta(hours=1)
    )
    assert taken.post_started_at is not None  # replica-a started posting: replica-b will look first
    assert (await first).posted == 0  # Slack posted it, but replica-a's "posted" write is fenced off
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["state"], delivery["ts"]) == ("pending", None)
    later = clock.now + timedelta(hours=2)
    clock.now = later
    assert (await due("replica-b").run(later)).posted == 1
    (post,) = slack.posts_to("C0001")
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["state"], delivery["ts"], delivery["claimed_by"]) == ("posted", post["ts"], "replica-b")


async def test_the_first_attempts_start_is_kept_and_every_write_is_fenced(due, storage, clock):
    """The store's side of it: a stale claim changes nothing; the search window starts at the first try."""
    await due().schedule_due(SEND)
    (first,) = await storage.digests.claim("replica-a", SEND, SHORT_LEASE)
    assert await storage.digests.start_post(first)
    (row,) = await storage.digests.deliveries()
    started = row["post_started_at"]
    assert started is not None and abs(started - SEND) < timedelta(seconds=5)  # the clock moves on
    later = SEND + timedelta(minutes=5)
    (second,) = await storage.digests.claim("replica-b", later, SHORT_LEASE)
    assert second.post_started_at == started and second.attempts == first.attempts + 1
    stale = [
        await storage.digests.renew(first, later + SHORT_LEASE),
        await storage.digests.start_post(first),
        await storage.digests.posted(first, "C0001", "1.000001"),
        await storage.digests.release(first, "error", later),
        await storage.digests.refused(first, "channel_not_found"),
        await storage.digests.uncertain(first, "C0001", "missing_scope"),
    ]
    assert stale == [False] * 6
    clock.now = later + timedelta(seconds=1)
    assert await storage.digests.start_post(second)
    (row,) = await storage.digests.deliveries()
    assert (row["state"], row["claimed_by"], row["post_started_at"]) == ("pending", "replica-b", started)
    assert await storage.digests.posted(second, "C0001", "2.000002")
