"""App Home is republished when a digest subscription or an incident changes, and after a digest is
posted: for the person concerned and for whoever opened the tab lately, through the services' hooks
(bot/container.py wires them). Each test reads the views the Slack stand-in received by views.publish."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from bot.container import build_services
from core.clock import FrozenClock
from messages import app_home
from providers.failures import Failure
from services.digest_schedule import WEEKLY, Schedule
from tests.conftest import install, subscribe_due

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SCHEDULE = Schedule(WEEKLY, 0, "09:00", "UTC")
ADMIN, VIEWER, CHANNEL = "U0001", "U0002", "C0001"


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
async def services(settings, storage, slack, clock):
    await install(storage, slack)
    slack.add_user(ADMIN, is_admin=True)
    slack.add_user(VIEWER)
    slack.add_channel(CHANNEL, "saas-usage", team_id="T0001")
    async with httpx.AsyncClient() as http:
        built = build_services(settings, storage, clock, http)
        client = await built.slack_clients("T0001")
        assert await built.home.publish(client, "T0001", VIEWER)  # VIEWER has the tab open
        yield built


def home_of(slack, user: str) -> str:
    return json.dumps(slack.home_views[user]["blocks"], ensure_ascii=False)


def published_since(slack, mark: int) -> set[str]:
    return {c.args["user_id"] for c in slack.calls[mark:] if c.method == "views.publish"}


async def test_subscribing_and_unsubscribing_republish_for_the_subscriber_and_viewers(services, slack):
    mark = len(slack.calls)
    await services.digests.subscribe(team_id="T0001", channel_id=CHANNEL, user_id=ADMIN, schedule=SCHEDULE)
    assert published_since(slack, mark) == {ADMIN, VIEWER}
    line = app_home.SUBSCRIPTION_LINE.split(" · next")[0].format(channel=CHANNEL, cadence=WEEKLY)
    for user in (ADMIN, VIEWER):
        assert line in home_of(slack, user) and app_home.NO_SUBSCRIPTIONS not in home_of(slack, user)

    mark = len(slack.calls)
    assert await services.digests.unsubscribe(team_id="T0001", channel_id=CHANNEL, user_id=ADMIN)
    assert published_since(slack, mark) == {ADMIN, VIEWER}
    assert app_home.NO_SUBSCRIPTIONS in home_of(slack, VIEWER)

    mark = len(slack.calls)  # nothing to remove: nothing changed, nothing republished
    assert not await services.digests.unsubscribe(team_id="T0001", channel_id=CHANNEL, user_id=ADMIN)
    assert published_since(slack, mark) == set()


async def test_a_posted_digest_republishes_with_where_it_went(services, slack, storage, clock):
    await subscribe_due(storage, "T0001", CHANNEL, SCHEDULE, clock())  # straight to storage: no hook
    assert app_home.NO_DIGEST in home_of(slack, VIEWER)
    sub = await storage.digests.get("T0001", CHANNEL)
    mark = len(slack.calls)
    outcome = await services.digests.run(sub.next_send_at)
    assert outcome.posted == 1
    # only whoever has the tab open: the subscriber (ADMIN) never opened it, Slack asks when they do
    assert published_since(slack, mark) == {VIEWER}
    assert f"Posted in <#{CHANNEL}>" in home_of(slack, VIEWER)


async def test_a_paused_subscription_republishes_as_paused(services, slack, storage, clock):
    await subscribe_due(storage, "T0001", CHANNEL, SCHEDULE, clock())
    sub = await storage.digests.get("T0001", CHANNEL)
    slack.fail_next("chat.postMessage", "not_in_channel")
    mark = len(slack.calls)
    outcome = await services.digests.run(sub.next_send_at)
    assert outcome.paused == 1
    assert published_since(slack, mark) == {ADMIN, VIEWER}
    paused = app_home.PAUSED_LINE.format(channel=CHANNEL, cadence=WEEKLY, reason="not_in_channel")
    assert paused in home_of(slack, VIEWER)


async def test_an_incident_opening_and_resolving_republishes(services, slack, storage, clock):
    await storage.connections.save_connected(
        team_id="T0001",
        provider="hubspot",
        account_id="101",
        account_name="portal101.example.com",
        credentials={"access_token": "a", "refresh_token": "r"},
        connected_by=ADMIN,
        scopes=["oauth"],
        details={},
        expires_in=1800,
    )
    connection = await storage.connections.get("T0001", "hubspot")
    mark = len(slack.calls)
    await services.alerts.failing(connection, Failure("revoked", "the token was revoked"), clock())
    assert published_since(slack, mark) == {ADMIN, VIEWER}
    assert ":rotating_light: HubSpot · failing since" in home_of(slack, ADMIN)
    assert app_home.NO_INCIDENTS not in home_of(slack, VIEWER)

    mark = len(slack.calls)  # failing again updates the alert, not the list: no republish
    await services.alerts.failing(connection, Failure("revoked", "the token was revoked"), clock())
    assert published_since(slack, mark) == set()

    mark = len(slack.calls)
    assert await services.alerts.working(connection, resolved_by=ADMIN)
    assert published_since(slack, mark) == {ADMIN, VIEWER}
    assert app_home.NO_INCIDENTS in home_of(slack, ADMIN)


async def test_a_failing_republish_never_undoes_a_posted_digest(services, slack, storage, clock):
    await subscribe_due(storage, "T0001", CHANNEL, SCHEDULE, clock())
    sub = await storage.digests.get("T0001", CHANNEL)

    async def broken(team_id, people):
        raise RuntimeError("App Home is down")

    services.digests.changed_hooks.insert(0, broken)
    outcome = await services.digests.run(sub.next_send_at)
    assert outcome.posted == 1 and outcome.retrying == 0
    assert len(slack.messages_in(CHANNEL)) == 1
    assert (await services.digests.run(sub.next_send_at)).posted == 0  # posted once, not retried
