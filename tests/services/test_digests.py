"""Digests end to end against the Slack, HubSpot and SendGrid stand-ins: figures, exactly once,
leases, late digests, Slack's refusals. The figures are computed independently from the seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from bot.container import build_services
from core.clock import FrozenClock
from core.periods import Period
from messages import digest as db
from services.digest_schedule import WEEKLY, Schedule
from tests.conftest import TEST_KEY, connect_hubspot, hubspot_standin, install
from tests.providers.test_hubspot_usage import expected_hubspot
from tests.providers.test_sendgrid_usage import expected_sendgrid

SEND = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 Europe/Berlin
BERLIN = Schedule(WEEKLY, 0, "09:00", "Europe/Berlin")
HUBSPOT_SCOPES = [
    "oauth",
    "settings.users.read",
    "crm.objects.owners.read",
    "crm.objects.contacts.read",
    "crm.objects.companies.read",
    "crm.objects.deals.read",
    "account-info.security.read",
]
SENDGRID_SCOPES = [
    "user.account.read",
    "user.credits.read",
    "teammates.read",
    "stats.read",
    "user.username.read",
]


class MovingClock(FrozenClock):
    """Real seconds pass from wherever the test sets it (`clock.now = ...`): the HubSpot stand-in's
    rate-limit windows must move on, while dates stay the test's own (and immune to faketime)."""

    def __init__(self, start: datetime) -> None:
        self._base, self._t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    @property
    def now(self) -> datetime:
        return self()

    @now.setter
    def now(self, value: datetime) -> None:
        self._base, self._t0 = value, time.monotonic()


@pytest.fixture
def clock():
    return MovingClock(SEND - timedelta(days=1))


@pytest.fixture
def hubspot(clock):
    """Portal 101 big and quiet enough that several paid seats sit idle in the digest's week."""
    from sandbox.standins.hubspot_seed import generate_portal

    portal = generate_portal(
        12,
        portal_id=101,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 22, tzinfo=UTC),
        n_users=40,
        records_per_type=30,
        logins_per_user=2,
    )
    standin, server = hubspot_standin(clock, [portal])
    yield standin
    server.stop()


@pytest.fixture
async def bot(storage, slack, hubspot, sendgrid, hub_settings, clock):
    """Workspace T0001 with HubSpot portal 101 and SendGrid `acme` connected; yields Services."""
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    await connect_hubspot(storage, hubspot, 101, HUBSPOT_SCOPES)
    key = sendgrid.add_key("acme", SENDGRID_SCOPES)
    await storage.connections.save_connected(
        team_id="T0001",
        provider="sendgrid",
        account_id="acme",
        account_name="acme-mail",
        credentials={"api_key": key, "base_url": sendgrid.url},
        connected_by="U0001",
        scopes=SENDGRID_SCOPES,
        details={},
    )
    settings = hub_settings.with_overrides(sendgrid_api_url=sendgrid.url)
    async with httpx.AsyncClient() as http:
        yield build_services(settings, storage, clock, http)


async def subscribed(services, channel="C0001", schedule=BERLIN):
    return await services.digests.subscribe(
        team_id="T0001", channel_id=channel, user_id="U0001", schedule=schedule
    )


def text_of(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def expected_figures(hubspot, sendgrid):
    hub = expected_hubspot(hubspot.portals[101], Period(date(2026, 11, 16), date(2026, 11, 22), "US/Eastern"))
    sg = expected_sendgrid(sendgrid.account, Period(date(2026, 11, 16), date(2026, 11, 22), "UTC"))
    return hub, sg


async def test_the_scheduled_digest_says_what_the_seeds_say(bot, storage, slack, hubspot, sendgrid, clock):
    hub, sg = expected_figures(hubspot, sendgrid)
    inactive = hub["seats"]["inactive_paid_users"] if "inactive_paid_users" in hub["seats"] else None
    portal = hubspot.portals[101]
    billing = {r.id for r in portal.roles if r.requires_billing_write}
    paid = [u for u in portal.users if u.seat_names or any(r in billing for r in u.role_ids)]
    active_paid = hub["seats"]["active_paid_users"] if "active_paid_users" in hub["seats"] else None
    assert inactive is not None and active_paid is not None
    idle = len(paid) - active_paid
    assert idle == len(inactive) and idle > 0, "the seed must leave some paid seats idle for this test"
    # one idle seat's owner is a Slack member with the same email: the digest names them by mention
    named_member = inactive[0]
    slack.add_user("UIDLE01", profile={"email": named_member["email"].upper()})
    await storage.digests.set_price("T0001", "hubspot", 9000, "EUR", "U0001")
    await subscribed(bot)

    assert (await bot.digests.run(SEND - timedelta(minutes=1))).posted == 0  # not yet
    clock.now = SEND
    outcome = await bot.digests.run(SEND)
    assert outcome.posted == 1
    posts = slack.posts_to("C0001")
    assert len(posts) == 1
    message = posts[0]
    body = text_of(message)
    assert db.IDLE_HEADLINE.format(idle=idle, paid=len(paid), cost=f" — about *€{idle * 90:,}/month*") in body
    assert f"*Paid seats*\\n{len(paid)}" in body
    assert f"*Active paid users*\\n{active_paid} (" in body
    assert "<@UIDLE01>" in body
    for seat in inactive[1 : db.NAMED]:
        assert seat["email"] in body
    for seat in inactive[db.NAMED :]:
        assert seat["email"] not in body
    records = sum(hub["activity"][k] for k in ("contacts_created", "companies_created", "deals_created"))
    assert f"Records created *{records:,}*" in body
    assert f"Logins *{hub['activity']['logins']:,}*" in body
    used, total, remaining, resets = sg["credits"]
    assert f"{used:,} of {total:,}" in body and f"{remaining:,} ({resets})" in body
    assert f"{sg['activity']['delivered_rate'] * 100:.1f}%" in body
    assert f"{idle} idle paid HubSpot seats" in message["text"]  # the notification carries the headline
    assert "2026-11-16 – 2026-11-22 (US/Eastern)" in body
    (delivery,) = await storage.digests.deliveries()
    assert (delivery["period"], delivery["state"], delivery["ts"]) == (
        "2026-11-16..2026-11-22",
        "posted",
        message["ts"],
    )

    for at in (SEND, SEND + timedelta(minutes=1), SEND + timedelta(hours=3)):
        await bot.digests.run(at)  # again, later, as another replica would
    assert len(slack.posts_to("C0001")) == 1
    sub = await storage.digests.get("T0001", "C0001")
    assert sub.next_send_at == SEND + timedelta(days=7) and sub.last_sent_at is not None


def expected_seats(hub):
    return hub["seats"]


async def test_usage_is_collected_once_however_many_channels_subscribe(bot, storage, slack, clock):
    for channel in ("C0002", "C0003"):
        slack.add_channel(channel)
    calls = []
    collect = bot.digests.collect

    async def counting(connection, period, now):
        calls.append((connection.provider, period))
        return await collect(connection, period, now)

    bot.digests.collect = counting
    for channel in ("C0001", "C0002", "C0003"):
        await subscribed(bot, channel)
    clock.now = SEND
    posted_before = sample("quolum_digests_posted_total", cadence="weekly")
    assert (await bot.digests.run(SEND)).posted == 3
    assert sample("quolum_digests_posted_total", cadence="weekly") == posted_before + 3
    assert sorted(calls) == [("hubspot", "2026-11-16..2026-11-22"), ("sendgrid", "2026-11-16..2026-11-22")]
    # a later run (another replica, a preview) reuses the snapshot taken after the period ended
    await bot.digests.preview("T0001", "Europe/Berlin")
    assert len(calls) == 2
    assert all(len(slack.posts_to(c)) == 1 for c in ("C0001", "C0002", "C0003"))


async def test_a_run_as_of_a_later_time_collects_as_of_that_time(bot, storage, slack, clock):
    """Issue 21 item 9: `jobs run --at T` with T ahead of the process's clock. The digest took its
    period from T, the collector checked it against the real clock ("The period cannot end after
    today") and the digest said HubSpot did not answer. The job's time goes all the way down."""
    await subscribed(bot)
    clock.now = SEND - timedelta(days=30)  # the process's clock: a month before the digest's time
    assert (await bot.digests.run(SEND)).posted == 1
    (post,) = slack.posts_to("C0001")
    text = json.dumps(post["blocks"])
    assert "did not answer" not in text and "Paid seats" in text
    assert "2026-11-16" in text and "2026-11-22" in text
    snapshot = await storage.snapshots.get("T0001", "hubspot", "101", "2026-11-16", "2026-11-22")
    # stamped as of the job's time (T and the seconds since), not the process's clock
    assert abs(snapshot.collected_at - SEND) < timedelta(minutes=5)


async def test_a_failure_of_ours_is_not_blamed_on_the_provider(bot, storage, slack, clock, caplog):
    await subscribed(bot)
    clock.now = SEND

    async def broken(connection, period, now):
        raise ValueError("The period cannot end after today (2026-10-24); it ends 2026-11-22.")

    bot.digests.collect = broken
    with caplog.at_level("ERROR", logger="quolum.digests"):
        assert (await bot.digests.run(SEND)).posted == 1
    text = json.dumps(slack.posts_to("C0001")[0])
    assert "did not answer" not in text and "unavailable" not in text
    assert "an error on Quolum's side, not HubSpot's" in text
    (record,) = [r for r in caplog.records if "hubspot" in r.getMessage()]
    assert record.levelname == "ERROR" and "cannot end after today" in record.getMessage()


async def test_a_collection_and_a_preview_of_one_portal_at_once_share_its_rate_limit(
    bot, hubspot, clock, monkeypatch
):
    """Issue 21 item 12: the collection after connecting and a preview ran together, each pacing at
    HubSpot's search limit on its own, so HubSpot saw twice the limit. Both must take their starts
    from one limiter, so that together they never start more than 5 searches in a second.

    Asserted on the starts the limiter gives (deterministic), not on the stand-in's count of arrivals:
    on a loaded machine the event loop resumes a waiter late and arrivals bunch up, which is a figure
    for the benchmark (benchmarks/usage_collection.py prints the 429 share), not a test."""
    import asyncio

    from providers.ratelimit import Limiter

    starts: list[tuple[int, float]] = []  # (the limiter, the start it gave) of every search
    acquire = Limiter.acquire

    async def recorded(self, provider, account_id, bucket=None):
        start = await acquire(self, provider, account_id, bucket)
        if bucket == "search" and account_id == "101":
            starts.append((id(self), start))
        return start

    monkeypatch.setattr(Limiter, "acquire", recorded)
    clock.now = SEND
    summary, _ = await asyncio.gather(
        bot.usage.collect(team_id="T0001", provider="hubspot", period="last-7-days"),
        bot.digests.preview("T0001", "Europe/Berlin"),
    )
    assert summary.failed == 0
    assert len(starts) > 10  # both uses searched
    assert len({limiter for limiter, _ in starts}) == 1  # one limiter for the account
    times = sorted(start for _, start in starts)
    assert all(later - first >= 1.0 for first, later in zip(times, times[5:], strict=False))


async def test_a_claim_whose_lease_lapsed_is_delivered_once(bot, storage, slack, clock):
    await subscribed(bot)
    clock.now = SEND
    await bot.digests.schedule_due(SEND)
    # a replica claimed it and died before Slack answered
    (taken,) = await storage.digests.claim("dead-replica", SEND, bot.digests.lease)
    assert (await bot.digests.run(SEND + timedelta(minutes=1))).posted == 0
    assert slack.posts_to("C0001") == []
    later = SEND + bot.digests.lease + timedelta(seconds=1)
    clock.now = later
    assert (await bot.digests.run(later)).posted == 1
    assert (await bot.digests.run(later)).posted == 0
    (delivery,) = await storage.digests.deliveries()
    assert delivery["attempts"] == 2 and delivery["state"] == "posted"
    assert len(slack.posts_to("C0001")) == 1


async def test_missed_digests_are_sent_once_late_never_as_a_backlog(bot, storage, slack, clock):
    clock.now = datetime(2026, 11, 1, tzinfo=UTC)
    await subscribed(bot)
    down_until = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # four Mondays missed
    clock.now = down_until
    assert (await bot.digests.run(down_until)).posted == 1
    (delivery,) = await storage.digests.deliveries()
    assert delivery["period"] == "2026-11-23..2026-11-29" and delivery["late"]
    assert "is late" in text_of(slack.posts_to("C0001")[0])
    assert (await storage.digests.get("T0001", "C0001")).next_send_at == datetime(2026, 12, 7, 8, tzinfo=UTC)


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "is_archived", "account_inactive"])
async def test_a_refusing_channel_pauses_and_the_subscriber_is_told_once(bot, storage, slack, clock, error):
    await subscribed(bot)
    slack.refuse_channel("C0001", error)
    clock.now = SEND
    refused_before = sample("quolum_digests_failed_total", reason=error)
    assert (await bot.digests.run(SEND)).paused == 1
    assert sample("quolum_digests_failed_total", reason=error) == refused_before + 1
    sub = await storage.digests.get("T0001", "C0001")
    assert (sub.status, sub.paused_reason) == ("paused", error)
    dms = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0001"]
    assert len(dms) == 1 and dms[0].args["text"] == db.PAUSED_DM[error].format(channel="C0001")
    nxt = SEND + timedelta(days=7)
    clock.now = nxt
    await bot.digests.run(nxt)
    assert len([c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0001"]) == 1
    assert slack.posts_to("C0001") == []
    # subscribing again resumes it
    await subscribed(bot)
    assert (await storage.digests.get("T0001", "C0001")).status == "active"


async def test_rate_limited_posts_wait_and_nothing_is_dropped(bot, storage, slack, clock):
    for channel in ("C0002", "C0003"):
        slack.add_channel(channel)
        await subscribed(bot, channel)
    await subscribed(bot)
    slack.rate_limit_next("chat.postMessage", retry_after=1, count=2)
    clock.now = SEND
    assert (await bot.digests.run(SEND)).posted == 3
    assert all(len(slack.posts_to(c)) == 1 for c in ("C0001", "C0002", "C0003"))


async def test_a_connection_needing_reconnect_is_shown_as_such_never_with_old_numbers(
    bot, storage, slack, clock
):
    await subscribed(bot)
    clock.now = SEND
    await bot.digests.run(SEND)  # a snapshot of last week exists now
    hub = await storage.connections.get("T0001", "hubspot")
    await storage.connections.mark_needs_reconnect(hub.id, "HubSpot refused the refresh token")
    message = await bot.digests.preview("T0001", "Europe/Berlin", now=SEND + timedelta(days=7))
    body = text_of(message)
    assert "HubSpot needs reconnecting" in body and "HubSpot refused the refresh token" in body
    assert db.DIGEST_RECONNECT_ACTION in body
    assert "paid seats idle" not in body  # the old HubSpot figures are not shown
    assert "HubSpot needs reconnecting" in message["text"]


async def test_an_unavailable_signal_says_so_instead_of_zero(bot, storage, hubspot, clock):
    hub = await storage.connections.get("T0001", "hubspot")
    await connect_hubspot(
        storage, hubspot, 101, [s for s in HUBSPOT_SCOPES if s != "account-info.security.read"]
    )
    assert hub is not None
    clock.now = SEND
    body = text_of(await bot.digests.preview("T0001", "Europe/Berlin"))
    assert "Logins unavailable" in body and "Logins *" not in body


async def test_the_connect_confirmation_offers_a_preview_and_a_channel(bot, storage, slack):
    hub = await storage.connections.get("T0001", "hubspot")
    slack.add_user("U0002")
    await bot.connections.after_connect(hub, "U0002", {}, "HubSpot is connected.")
    dm = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0002"][-1]
    ids = [e["action_id"] for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [db.PREVIEW_ACTION, db.SUBSCRIBE_PICK_ACTION]
    assert dm.args["text"] == "HubSpot is connected."


def cli_env(settings) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "QUOLUM_", "HUBSPOT_", "SENDGRID_"))
    }
    ours = {
        "SLACK_SIGNING_SECRET": settings.signing_secret,
        "SLACK_CLIENT_ID": settings.client_id,
        "SLACK_CLIENT_SECRET": settings.client_secret,
        "SLACK_API_URL": settings.slack_api_url,
        "QUOLUM_DATABASE_URL": settings.database_url,
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
        "HUBSPOT_CLIENT_ID": settings.value("HUBSPOT_CLIENT_ID"),
        "HUBSPOT_CLIENT_SECRET": settings.value("HUBSPOT_CLIENT_SECRET"),
        "HUBSPOT_API_URL": settings.value("HUBSPOT_API_URL"),
        "SENDGRID_API_URL": settings.value("SENDGRID_API_URL"),
    }
    return env | {k: v for k, v in ours.items() if v is not None}


def cli(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
async def test_operators_list_and_run_jobs_and_preview(bot, storage, slack):
    await subscribed(bot)
    listing = cli(bot.settings, "jobs", "list")
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    assert set(rows) >= {"housekeeping", "expire_invitations", "connection_health", "digests"}
    assert "1 min" in rows["digests"] and "never" in rows["digests"]

    ran = cli(bot.settings, "jobs", "run", "digests", "--at", "2026-11-23T09:00:00+01:00")
    assert (ran.returncode, ran.stdout.strip()) == (0, "digests: ok"), ran.stderr
    assert len(slack.posts_to("C0001")) == 1
    again = cli(bot.settings, "jobs", "run", "digests", "--at", "2026-11-23T09:00:30+01:00")
    assert again.returncode == 0, again.stderr
    assert len(slack.posts_to("C0001")) == 1  # the delivery's claim holds across processes
    assert " ok" in cli(bot.settings, "jobs", "list").stdout.split("digests", 1)[1].splitlines()[0]

    # every scheduled job takes the slot's time: housekeeping too (it once took none and failed)
    housekeeping = cli(bot.settings, "jobs", "run", "housekeeping")
    assert (housekeeping.returncode, housekeeping.stdout.strip()) == (0, "housekeeping: ok"), (
        housekeeping.stderr
    )

    bad = cli(bot.settings, "jobs", "run", "nope")
    assert (
        bad.returncode == 2
        and "there is no job called 'nope'" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    bad_at = cli(bot.settings, "jobs", "run", "digests", "--at", "monday")
    assert bad_at.returncode == 2 and "--at must be an ISO-8601 time" in bad_at.stderr

    preview = cli(bot.settings, "digest", "preview", "--team", "T0001", "--json")
    assert preview.returncode == 0, preview.stderr
    message = json.loads(preview.stdout)
    assert message["blocks"][0]["type"] == "header" and "HubSpot" in message["text"]
    text = cli(bot.settings, "digest", "preview", "--team", "T0001")
    assert text.returncode == 0 and "Seat usage" in text.stdout and "Paid seats" in text.stdout
    assert len(slack.posts_to("C0001")) == 1  # previews post nothing


async def test_jobs_run_reports_its_own_run_while_another_process_holds_a_newer_slot(bot, storage, slack):
    """Issue 21 item 8: the CLI once read the job's latest run by name (another replica's, still
    running) and printed `digests: None`, exit 1, for a run that had succeeded."""
    from storage.models import JobClaim

    await subscribed(bot)
    async with storage.db.session() as session, session.begin():
        session.add(
            JobClaim(
                job="digests",
                slot="2999-01-01T00:00:00Z other-replica",
                claimed_by="other-replica",
                claimed_at=datetime.now(UTC) + timedelta(hours=1),  # newer than any run we make now
            )
        )
    ran = cli(bot.settings, "jobs", "run", "digests", "--at", "2026-11-23T09:00:00+01:00")
    assert (ran.returncode, ran.stdout.strip()) == (0, "digests: ok"), ran.stderr
    assert len(slack.posts_to("C0001")) == 1


def sample(name: str, **labels: str) -> float:
    from core.metrics import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0
