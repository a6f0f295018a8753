"""Connection health end to end: incidents, one alert message each, updated in place, resolved.

Every component reads one frozen clock (the server, the replicas' storage, the HubSpot stand-in), and
the health job runs through `Scheduler.run_once` with that clock moved, so "an hour later", "24 hours
later" and "3 days later" hold however fast the machine is and whatever the date is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from datetime import timedelta

import httpx
import pytest

from bot.container import build_services
from bot.scheduler import Scheduler
from core.clock import FrozenClock
from core.metrics import REGISTRY
from handlers import alerts as ha
from handlers.commands import ADMINS_ONLY
from messages import alerts as am
from messages import cards
from providers.failures import Failure
from providers.http import ProviderHTTP
from providers.hubspot.entry import POLICY as HUBSPOT
from providers.registry import INSTALLED, Registry
from sandbox import slack_requests as sr
from services import digest_subscriptions as digests
from services.health import JOB_EVERY, due, offset, should_alert
from storage.crypto import Encryptor
from storage.db import Database
from storage.store import Storage
from tests.conftest import POSTGRES_URL, TEST_KEY, install
from tests.services.test_connections import Browser, answer_of, buttons, open_card, post

SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]


@pytest.fixture
def clock():
    return FrozenClock()


# --- pure rules ---------------------------------------------------------------------------------
def test_checks_are_spread_over_the_hour_and_due_hourly():
    offsets = {offset(n).total_seconds() // 300 for n in range(1, 200)}
    assert len(offsets) == 12  # every 5-minute slot of the hour gets some connections
    start = FrozenClock().now
    assert due(7, None, start)
    checked, last = 0, None  # the job runs every 5 minutes for a day: the connection is checked hourly
    for minutes in range(0, 24 * 60, 5):
        now = start + timedelta(minutes=minutes)
        if due(7, last, now):
            checked, last = checked + 1, now
    assert checked in (24, 25)


@pytest.mark.parametrize(
    "kind,hours,has_open,alert",
    [
        ("revoked", 0, False, True),
        ("scope_lost", 0, False, True),
        ("configuration", 0, False, True),
        ("transient", 23.9, False, False),
        ("transient", 24, False, True),
        ("transient", 1, True, True),  # an open incident keeps being updated
        ("bad_code", 48, False, False),
    ],
)
def test_should_alert(kind, hours, has_open, alert):
    now = FrozenClock().now
    assert should_alert(Failure(kind, "r"), now - timedelta(hours=hours), now, has_open) is alert


# --- helpers ------------------------------------------------------------------------------------
@pytest.fixture
async def bot(serve, hub_settings, storage, slack, clock):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)  # connects HubSpot
    slack.add_user("U0002")  # a member
    return serve(hub_settings, clock=clock)


SCHEDULERS: dict[int, Scheduler] = {}  # each replica's scheduler


@contextlib.asynccontextmanager
async def replica(settings, database_url, clock, name: str, registry: Registry = INSTALLED):
    """A bot process's services in the test's event loop, as its scheduler runs them; HubSpot calls
    are retried without waiting out the backoff."""
    store = Storage(Database(database_url), Encryptor([TEST_KEY]), replica_id=name, clock=clock)
    async with httpx.AsyncClient() as http:
        services = build_services(settings, store, clock, http, registry)
        services.providers("hubspot").http = ProviderHTTP(
            http, HUBSPOT, limiter=services.limiter, sleep=_no_sleep
        )
        scheduler = Scheduler(store.claims, clock)
        scheduler.add("connection_health", JOB_EVERY, services.health.run)
        SCHEDULERS[id(services)] = scheduler
        try:
            yield services
        finally:
            del SCHEDULERS[id(services)]
            await store.db.dispose()


async def _no_sleep(_seconds: float) -> None:
    return None


async def run_job(services) -> bool:
    return await SCHEDULERS[id(services)].run_once("connection_health")


def alerts_in(slack) -> list[dict]:
    return [m for m in slack.all_messages() if not m["thread_ts"] and "alert" in json.dumps(m["blocks"])]


async def save_hubspot(storage, hubspot) -> None:
    """Portal 101 connected by U0001 without the browser flow."""
    tokens = hubspot.issue_tokens(101, SCOPES)
    await storage.connections.save_connected(
        team_id="T0001",
        provider="hubspot",
        account_id="101",
        account_name="portal101.example.com",
        credentials={"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]},
        connected_by="U0001",
        scopes=SCOPES,
        details={},
        expires_in=tokens["expires_in"],
    )


def connect(bot, slack, hubspot) -> None:
    page = Browser(bot, hubspot).connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    assert page.status_code == 200, page.text


async def eventually(check, tries: int = 200):
    for _ in range(tries):
        found = check()
        if found:
            return found
        await asyncio.sleep(0.025)
    raise AssertionError("never happened")


# --- revoked: once per incident, updated in place, resolved through the button ------------------
async def test_revoked_connection_alerts_once_updates_in_place_and_resolves_on_reconnect(
    bot, slack, hubspot, storage, clock, database_url
):
    connect(bot, slack, hubspot)
    connection = await storage.connections.get("T0001", "hubspot")
    async with replica(bot.settings, database_url, clock, "r1") as one:
        assert await run_job(one)  # healthy: nothing said
        assert alerts_in(slack) == []
        hubspot.uninstall(101)  # the customer removed the app: both tokens are refused
        for _ in range(3):
            clock.advance(hours=1)
            assert await run_job(one)
        [alert] = alerts_in(slack)
        assert alert["channel"] == "D0001"  # a DM to whoever connected it
        assert REGISTRY.get_sample_value("quolum_alerts_open", {"provider": "hubspot"}) == 1
        assert "stopped working" in alert["text"] and cards.RECONNECT in json.dumps(alert["blocks"])
        assert alert["edits"] == 2  # the later runs only updated it
        assert "still failing, last checked" in json.dumps(alert["blocks"])
        assert (await storage.connections.get("T0001", "hubspot")).status == "needs_reconnect"

        # the card and /quolum status say so, with since when
        status = json.dumps(open_card(bot, slack, text="status")["blocks"])
        assert "Open incident since" in status
        incident = (await storage.incidents.open_in_team("T0001"))["hubspot"]
        assert incident.number == 1 and incident.ts == alert["ts"]

        # a member clicking Reconnect is told how to invite the account's admin
        hook = slack.response_url()
        post(
            bot,
            sr.action(am.ALERT_RECONNECT_ACTION, value=str(incident.id), user_id="U0002", response_url=hook),
        )
        assert "/quolum invite @them hubspot" in (await answer_of(slack, hook))["text"]
        # an admin gets a fresh single-use link for them only, and reconnects in the browser
        hook = slack.response_url()
        post(bot, sr.action(am.ALERT_RECONNECT_ACTION, value=str(incident.id), response_url=hook))
        answer = (await answer_of(slack, hook))["text"]
        url = re.search(r"<(http[^|>]+)\|", answer).group(1)
        page = Browser(bot, hubspot).connect(url)
        assert page.status_code == 200
        assert Browser(bot, hubspot).start(url).status_code == 400  # single use
        resolved = await eventually(lambda: "Resolved" in alerts_in(slack)[0]["text"] and alerts_in(slack)[0])
        assert "reconnected by <@U0001>" in resolved["text"] and len(alerts_in(slack)) == 1
        assert await storage.incidents.open_in_team("T0001") == {}
        assert REGISTRY.get_sample_value("quolum_alerts_open", {"provider": "hubspot"}) == 0
        assert "Open incident" not in json.dumps(open_card(bot, slack, text="status")["blocks"])

        # healthy again: later runs say nothing; a new failure is a new incident, a new message
        clock.advance(hours=1)
        assert await run_job(one)
        assert len(alerts_in(slack)) == 1
        hubspot.uninstall(101)
        clock.advance(hours=1)
        assert await run_job(one)
        assert len(alerts_in(slack)) == 2
        assert (await storage.incidents.open_for(connection.id)).number == 2


@pytest.mark.skipif(not POSTGRES_URL, reason="needs QUOLUM_TEST_POSTGRES_URL: replicas share PostgreSQL")
async def test_two_replicas_on_one_postgres_post_one_alert(bot, slack, hubspot, storage, clock, database_url):
    if storage.db.is_sqlite:
        pytest.skip("replicas share PostgreSQL; SQLite is one process")
    connect(bot, slack, hubspot)
    hubspot.uninstall(101)
    async with (
        replica(bot.settings, database_url, clock, "r1") as one,
        replica(bot.settings, database_url, clock, "r2") as two,
    ):
        # the first failing check on both at once: both find it revoked, one opens the incident
        clock.advance(hours=1)
        await asyncio.gather(one.health.run(clock()), two.health.run(clock()))
        assert len(alerts_in(slack)) == 1
        for _ in range(3):
            clock.advance(hours=1)
            # the scheduler's claim lets one of them run each slot ...
            ran = await asyncio.gather(run_job(one), run_job(two))
            assert sorted(ran) == [False, True]
            # ... and even both checking the same connection at once (no claim) post once
            clock.advance(hours=1)
            await asyncio.gather(one.health.run(clock()), two.health.run(clock()))
    assert len(alerts_in(slack)) == 1
    assert alerts_in(slack)[0]["edits"] >= 6  # every later pass updated it in place


# --- transient: nothing for a day, then one alert, resolved when HubSpot answers ----------------
async def test_hubspot_503_alerts_only_after_24_hours_and_resolves_itself(
    hub_settings, slack, hubspot, storage, clock, database_url
):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    await save_hubspot(storage, hubspot)
    async with replica(hub_settings, database_url, clock, "r1") as one:
        hubspot.faults.fail_next("", status=503, count=10**6)  # HubSpot answers 503 to everything
        for _ in range(6):  # six runs within a day
            assert await run_job(one)
            clock.advance(hours=4)
        assert alerts_in(slack) == []
        assert (await storage.connections.get("T0001", "hubspot")).status == "connected"
        clock.advance(hours=1)  # 25 hours after the first failing check
        assert await run_job(one)
        [alert] = alerts_in(slack)
        assert "has not answered since" in alert["text"] and cards.RECONNECT not in json.dumps(
            alert["blocks"]
        )
        clock.advance(hours=1)
        assert await run_job(one)
        assert len(alerts_in(slack)) == 1 and alerts_in(slack)[0]["edits"] == 1
        hubspot.faults.clear()
        clock.advance(hours=1)
        assert await run_job(one)
        [alert] = alerts_in(slack)
        assert "Resolved" in alert["text"] and "answers again" in alert["text"]


# --- scope lost: degraded, naming the feature ---------------------------------------------------
async def test_reconnecting_with_fewer_scopes_is_a_degraded_alert_naming_the_feature(
    bot, slack, hubspot, storage, clock, database_url
):
    connect(bot, slack, hubspot)
    hubspot.withheld_scopes = {"crm.objects.owners.read"}
    connect(bot, slack, hubspot)  # reconnected; HubSpot granted less this time
    assert "crm.objects.owners.read" not in (await storage.connections.get("T0001", "hubspot")).scopes
    async with replica(bot.settings, database_url, clock, "r1") as one:
        assert await run_job(one)
    [alert] = alerts_in(slack)
    assert "match CRM records to the users who own them" in alert["text"]
    assert "crm.objects.owners.read" in alert["text"] and "stopped working" not in alert["text"]
    connection = await storage.connections.get("T0001", "hubspot")
    assert connection.status == "connected" and "crm.objects.owners.read" in connection.unavailable
    assert "Degraded since" in json.dumps(open_card(bot, slack, text="status")["blocks"])


# --- our own misconfiguration -----------------------------------------------------------------------
async def test_our_own_misconfiguration_is_logged_at_error_and_shown_as_such(
    bot, slack, hubspot, storage, clock, database_url, caplog
):
    connect(bot, slack, hubspot)
    clock.advance(hours=1)  # the access token needs refreshing
    broken = bot.settings.with_overrides(hubspot_client_secret="not-the-secret")
    caplog.set_level(logging.INFO)
    async with replica(broken, database_url, clock, "r1") as one:
        assert await run_job(one)
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "misconfigured" in r.getMessage()]
    [alert] = alerts_in(slack)
    assert "the bot's HubSpot app is misconfigured" in alert["text"]
    assert cards.RECONNECT not in json.dumps(alert["blocks"])
    assert (
        await storage.connections.get("T0001", "hubspot")
    ).status == "connected"  # not the customer's fault
    assert "the bot's HubSpot app is misconfigured" in json.dumps(
        open_card(bot, slack, text="status")["blocks"]
    )


# --- where alerts go ---------------------------------------------------------------------------------
async def test_alerts_command_and_destinations(bot, slack, hubspot, storage, clock, database_url):
    async def say(text: str, user: str = "U0001") -> str:
        hook = slack.response_url()
        assert post(bot, sr.command(text, user_id=user, response_url=hook)).status_code == 200
        return (await answer_of(slack, hook))["text"]

    slack.add_channel("C0999", "ops")
    assert await say("alerts") == ha.DEFAULT
    assert await say("alerts <#C0999|ops>", user="U0002") == ADMINS_ONLY.format(what="choose where alerts go")
    assert await say("alerts #ops now") == ha.USAGE
    slack.add_channel("C0777", "secret", private=True)  # the bot was not invited: it cannot see it
    slack.add_channel("C0778", "old", archived=True)
    assert await say("alerts <#C0777|secret>") == ha.REFUSED[digests.CANNOT_SEE].format(channel="C0777")
    assert await say("alerts <#C0778|old>") == ha.REFUSED[digests.ARCHIVED].format(channel="C0778")
    assert await say("alerts") == ha.DEFAULT  # nothing was changed by the refusals
    assert await say("alerts <#C0999|ops>") == ha.SET.format(channel="C0999")
    assert await say("alerts") == ha.TO_CHANNEL.format(channel="C0999")

    connect(bot, slack, hubspot)
    hubspot.uninstall(101)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        assert await run_job(one)
        assert [a["channel"] for a in alerts_in(slack)] == ["C0999"]
        assert await say("alerts off") == ha.OFF
        # the connector has left: the Quolum admins hear of it, in one group DM
        slack.users["U0001"]["deleted"] = True
        slack.add_user("U0003")
        await storage.admins.grant("T0001", "U0003", "U0001")
        slack.add_user("U0004", is_owner=True)
        # in users.list too, but an admin of their home workspace only (a Grid member of T0001 as well)
        grid = {"id": "U0005", "enterprise_id": "E0001", "is_admin": False, "is_owner": False}
        slack.add_user("U0005", "T0002", is_admin=True, enterprise_user={**grid, "teams": ["T0002", "T0001"]})
        await storage.connections.disconnect((await storage.connections.get("T0001", "hubspot")).id, "U0004")
        await storage.incidents.resolve((await storage.incidents.open_in_team("T0001"))["hubspot"].id, None)
        await save_hubspot(storage, hubspot)
        hubspot.uninstall(101)
        clock.advance(hours=1)
        assert await run_job(one)
    second = alerts_in(slack)[-1]
    assert len(alerts_in(slack)) == 2 and second["channel"].startswith("G")
    opened = slack.calls_to("conversations.open")[-1].args["users"]
    assert set(str(opened).split(",")) == {"U0003", "U0004"}


# --- one reminder after 3 days -------------------------------------------------------------------------
async def test_one_reminder_in_the_thread_after_three_days(bot, slack, hubspot, storage, clock, database_url):
    connect(bot, slack, hubspot)
    hubspot.uninstall(101)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        for _ in range(4 * 24):  # four days of hourly checks
            clock.advance(hours=1)
            await one.health.run(clock())
    [alert] = alerts_in(slack)
    assert len(alert["replies"]) == 1
    reply = next(m for m in slack.all_messages() if m["ts"] == alert["replies"][0])
    assert reply["thread_ts"] == alert["ts"] and reply["text"].startswith("Reminder:")


# --- secrets ---------------------------------------------------------------------------------------------
async def test_no_token_or_state_in_any_alert_log_or_slack_payload(
    bot, slack, hubspot, storage, clock, database_url, caplog
):
    from core.logs import JsonFormatter
    from tests.handlers.test_events import assert_nowhere_in_database

    caplog.set_level(logging.DEBUG)
    connect(bot, slack, hubspot)
    secrets = set((await storage.connections.get("T0001", "hubspot")).credentials.values())
    hubspot.uninstall(101)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        for _ in range(2):
            clock.advance(hours=1)
            assert await run_job(one)
    incident = (await storage.incidents.open_in_team("T0001"))["hubspot"]
    hook = slack.response_url()
    post(bot, sr.action(am.ALERT_RECONNECT_ACTION, value=str(incident.id), response_url=hook))
    url = re.search(r"<(http[^|>]+)\|", (await answer_of(slack, hook))["text"]).group(1)
    state = url.split("state=", 1)[1]
    Browser(bot, hubspot).connect(url)
    await eventually(lambda: "Resolved" in alerts_in(slack)[0]["text"])
    secrets |= set((await storage.connections.get("T0001", "hubspot")).credentials.values())
    logs = "\n".join(r.getMessage() + JsonFormatter().format(r) for r in caplog.records)
    assert "incident hubspot#1" in logs  # the scan looked at the alert paths' log lines
    payloads = json.dumps([c.args for c in slack.calls if c.method != "oauth.v2.access"]) + json.dumps(
        slack.all_messages()
    )
    for secret in secrets | {"test-client-secret"}:
        await assert_nowhere_in_database(storage, secret)
        assert secret not in logs and secret not in payloads
    # the link's state reached only the person it was for: none of our log lines (libraries that log
    # request bodies at DEBUG are held at WARNING by core.logs.setup_logging)
    ours = [r for r in caplog.records if r.name.startswith("quolum") or r.levelno >= logging.WARNING]
    leaks = [r for r in ours if state in r.getMessage() + JsonFormatter().format(r)]
    assert not leaks, [(r.name, r.getMessage()[:300]) for r in leaks]
    assert not [c for c in slack.calls if c.method != "chat.postEphemeral" and state in json.dumps(c.args)]


# --- the Reconnect button, then a real browser ------------------------------------------------------------
async def test_reconnect_from_the_alert_in_a_real_browser(
    chromium,  # noqa: F811  (the fixture imported from tests.handlers.test_oauth)
    bot,
    slack,
    hubspot,
    storage,
    clock,
    database_url,
):
    connect(bot, slack, hubspot)
    hubspot.uninstall(101)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        clock.advance(hours=1)
        assert await run_job(one)
    incident = (await storage.incidents.open_in_team("T0001"))["hubspot"]
    hook = slack.response_url()
    post(bot, sr.action(am.ALERT_RECONNECT_ACTION, value=str(incident.id), response_url=hook))
    url = re.search(r"<(http[^|>]+)\|", (await answer_of(slack, hook))["text"]).group(1)
    page = await chromium.new_page()
    await page.goto(url)
    assert page.url.startswith(f"{hubspot.url}/oauth/authorize")
    await page.click("#approve")
    await page.wait_for_url(f"{bot.url}/oauth/hubspot/callback**")
    assert await page.inner_text("h1") == "HubSpot is connected"
    resolved = await eventually(lambda: "Resolved" in alerts_in(slack)[0]["text"] and alerts_in(slack)[0])
    assert "reconnected by <@U0001>" in resolved["text"] and resolved["ts"] == incident.ts
    assert (await storage.connections.get("T0001", "hubspot")).status == "connected"


# --- SendGrid: a 401 is revoked, a 403 on one endpoint is degraded ----------------------------------------
async def test_sendgrid_revoked_and_degraded_alerts(
    sg_settings, slack, sendgrid, storage, clock, database_url
):
    from tests.services.test_credential_connect import ALL_SCOPES, save_key

    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    key = sendgrid.add_key("acme", ALL_SCOPES)
    connection = await save_key(storage, sendgrid, key)
    async with replica(sg_settings, database_url, clock, "r1") as one:
        hooks = one.providers("sendgrid")
        hooks.http = ProviderHTTP(one.http, hooks.http.policy, limiter=one.limiter, sleep=_no_sleep)
        sendgrid.faults.fail_next(
            "/v3/teammates", status=403, body={"errors": [{"message": "access forbidden"}]}
        )
        assert await run_job(one)
        [degraded] = alerts_in(slack)
        assert "count teammates" in degraded["text"] and "`teammates.read`" in degraded["text"]
        clock.advance(hours=1)
        assert await run_job(one)  # teammates answers again: resolved by itself
        assert "Resolved" in alerts_in(slack)[0]["text"]
        sendgrid.revoke_key(key)
        clock.advance(hours=1)
        assert await run_job(one)
    assert len(alerts_in(slack)) == 2
    revoked = alerts_in(slack)[1]
    assert "SendGrid" in revoked["text"] and "stopped working" in revoked["text"]
    assert (await storage.connections.by_id(connection.id)).status == "needs_reconnect"
    assert key not in json.dumps(slack.all_messages())


async def test_sendgrid_reconnect_button_opens_the_key_window_for_admins_only(
    serve, sg_settings, slack, sendgrid, storage, clock, database_url
):
    from tests.services.test_credential_connect import ALL_SCOPES, save_key

    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user("U0002")
    server = serve(sg_settings, clock=clock)
    key = sendgrid.add_key("acme", ALL_SCOPES)
    await save_key(storage, sendgrid, key)
    sendgrid.revoke_key(key)
    async with replica(sg_settings, database_url, clock, "r1") as one:
        assert await run_job(one)
    incident = (await storage.incidents.open_in_team("T0001"))["sendgrid"]
    hook = slack.response_url()
    post(
        server,
        sr.action(am.ALERT_RECONNECT_ACTION, value=str(incident.id), user_id="U0002", response_url=hook),
    )
    assert "/quolum invite @them sendgrid" in (await answer_of(slack, hook))["text"]
    assert slack.calls_to("views.open") == []
    post(
        server,
        sr.action(am.ALERT_RECONNECT_ACTION, value=str(incident.id), response_url=slack.response_url()),
    )
    view = (await eventually(lambda: slack.calls_to("views.open")))[0].args["view"]
    assert "SendGrid" in json.dumps(view) and key not in json.dumps(view)


# --- operators: `quolum-bot jobs run connection_health --at ...` --------------------------------
async def test_jobs_run_connection_health_from_the_command_line_alerts_once(
    bot, slack, hubspot, storage, clock
):
    from tests.services.test_digests import cli

    connect(bot, slack, hubspot)
    hubspot.uninstall(101)  # both tokens refused
    at = (clock() + timedelta(hours=1)).isoformat()
    ran = cli(bot.settings, "jobs", "run", "connection_health", "--at", at)
    assert (ran.returncode, ran.stdout.strip()) == (0, "connection_health: ok"), ran.stderr
    [alert] = alerts_in(slack)
    assert "stopped working" in alert["text"]
    assert (await storage.connections.get("T0001", "hubspot")).status == "needs_reconnect"

    again = cli(bot.settings, "jobs", "run", "connection_health", "--at", at)  # the same slot
    assert again.returncode == 0 and "already ran" in again.stdout, again.stderr
    assert len(alerts_in(slack)) == 1 and alerts_in(slack)[0]["edits"] == 0


@pytest.mark.parametrize("history, stored", [(",channels:history", True), ("", False)])
async def test_an_alert_slack_took_without_answering_is_posted_once(
    storage, slack, settings, clock, history, stored
):
    """Slack posts the alert and answers after the bot's timeout: the alert is never posted again
    (not in the channel, not to the next destination); with the history scope its ts is found."""
    from services.alerts import ALERT_EVENT, AlertsService
    from services.slack_clients import SlackClients

    await install(storage, slack)
    slack.add_user("U0001")
    slack.add_channel("C0042", "alerts", member=True)
    slack.workspaces["T0001"].scopes += history
    await storage.alert_routes.set("T0001", "C0042", "U0001")
    await save_hubspot(storage, type("Hub", (), {"issue_tokens": lambda *_: FAKE_TOKENS})())
    connection = await storage.connections.get("T0001", "hubspot")
    alerts = AlertsService(
        incidents=storage.incidents,
        routes=storage.alert_routes,
        connections=storage.connections,
        admins=storage.admins,
        slack_client=SlackClients(settings, storage.installations, timeout=1),
        clock=clock,
    )
    slack.answer_slowly("chat.postMessage", 3)
    incident = await alerts.failing(connection, Failure("revoked", "token revoked"), clock.now)
    posts = [m for m in slack.all_messages() if not m["thread_ts"]]
    assert len(posts) == 1 and posts[0]["channel"] == "C0042"
    assert posts[0]["metadata"] == {"event_type": ALERT_EVENT, "event_payload": {"id": str(incident.id)}}
    incident = await storage.incidents.open_for(connection.id)
    assert (incident.channel, incident.ts) == (("C0042", posts[0]["ts"]) if stored else (None, None))
    clock.advance(hours=1)
    await alerts.failing(connection, Failure("revoked", "token revoked"), clock.now)  # updates, never posts
    assert len([m for m in slack.all_messages() if not m["thread_ts"]]) == 1


FAKE_TOKENS = {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 1800}
