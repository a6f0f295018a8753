"""Connecting HubSpot end to end: the card, the Connect link, HubSpot's consent page, the callback."""

from __future__ import annotations

import json
from html import escape
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from handlers.oauth import COOKIE, DENIED
from messages import cards
from sandbox import slack_requests as sr
from services import connections as texts
from tests.conftest import install


def post(server, body: str, content_type="application/x-www-form-urlencoded") -> httpx.Response:
    return httpx.post(
        f"{server.url}/slack/events",
        content=body,
        headers=sr.signed_headers(body, content_type=content_type),
        timeout=10,
    )


def buttons(card: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}


def card_text(card: dict) -> str:
    return json.dumps(card["blocks"])


@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)  # a Slack admin
    slack.add_user("U0002")  # a member
    return serve(hub_settings)


def open_card(bot, slack, user="U0001", text="connect") -> dict:
    body = sr.command(text, user_id=user, response_url=slack.response_url())
    response = post(bot, body)
    assert response.status_code == 200
    return response.json()


class Browser:
    """Follows the Connect link like a person's browser: the bot's start page, HubSpot's consent, back."""

    def __init__(self, bot, hubspot) -> None:
        self.bot, self.hubspot = bot, hubspot
        self.client = httpx.Client(timeout=10)

    def start(self, url: str) -> httpx.Response:
        return self.client.get(url)

    def consent(self, authorize_url: str, decision: str = "approve") -> httpx.Response:
        params = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
        page = self.client.get(authorize_url)
        assert page.status_code == 200, page.text
        return self.client.post(
            f"{self.hubspot.url}/oauth/authorize/decision", data={**params, "decision": decision}
        )

    def connect(self, url: str, decision: str = "approve") -> httpx.Response:
        start = self.start(url)
        assert start.status_code == 302, start.text
        back = self.consent(start.headers["location"], decision)
        assert back.status_code == 302
        return self.client.get(back.headers["location"])


async def test_admin_sees_connect_members_see_states_only(bot, slack):
    admin = open_card(bot, slack)
    connect = buttons(admin)["connect_link:hubspot"]
    assert connect["text"]["text"] == cards.CONNECT
    assert connect["url"].startswith(f"{bot.url}/oauth/hubspot/start?state=")
    assert cards.NOT_CONNECTED in card_text(admin)
    member = open_card(bot, slack, user="U0002", text="status")
    assert buttons(member) == {}
    assert cards.MEMBER_HINT in card_text(member)


async def test_hubspot_without_app_credentials_is_not_offered(serve, settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_owner=True)
    server = serve(settings)  # no HUBSPOT_CLIENT_ID
    card = open_card(server, slack)
    assert cards.NOT_AVAILABLE in card_text(card)
    assert "connect_link:hubspot" not in buttons(card)


async def test_unknown_provider_is_named(bot, slack):
    body = sr.command("connect salesforce", response_url=slack.response_url())
    text = post(bot, body).text
    assert "salesforce" in text and "`hubspot`" in text


async def test_connect_end_to_end(bot, slack, hubspot, storage):
    card = open_card(bot, slack)
    url = buttons(card)["connect_link:hubspot"]["url"]
    browser = Browser(bot, hubspot)
    start = browser.start(url)
    assert start.status_code == 302
    authorize = urlparse(start.headers["location"])
    query = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{hubspot.url}/oauth/authorize"
    assert query["client_id"] == ["test-client-id"]
    assert query["redirect_uri"] == [f"{bot.url}/oauth/hubspot/callback"]
    assert "settings.users.read" in query["scope"][0].split() and "write" not in query["scope"][0]
    assert "account-info.security.read" in query["optional_scope"][0].split()
    assert len(query["state"][0]) >= 22  # >= 128 bits
    assert "%20" in start.headers["location"]  # HubSpot documents spaces as %20

    back = browser.consent(start.headers["location"])
    done = browser.client.get(back.headers["location"])
    assert done.status_code == 200
    assert texts.CONNECTED_PAGE.format(domain="portal101.example.com") in done.text

    connection = await storage.connections.get("T0001", "hubspot")
    assert connection.status == "connected" and connection.account_id == "101"
    assert connection.connected_by == "U0001"
    assert connection.details["time_zone"] == "US/Eastern" and connection.details["currency"] == "USD"
    assert connection.credentials["refresh_token"].startswith("na1-")
    assert connection.expires_at is not None and connection.token_lifetime == 1800
    # the card was updated in place, and the person told
    updated = slack.responses[-1]
    assert updated["replace_original"] is True
    assert "connect_link:hubspot" in buttons(updated)
    assert buttons(updated)["connect_link:hubspot"]["text"]["text"] == cards.RECONNECT
    assert "disconnect:hubspot" in buttons(updated)
    dm = slack.calls_to("chat.postMessage")[-1]
    assert dm.args["channel"] == "U0001" and "portal101.example.com" in dm.args["text"]
    # and the next card says Reconnect
    again = open_card(bot, slack, text="status")
    assert buttons(again)["connect_link:hubspot"]["text"]["text"] == cards.RECONNECT
    assert "portal101.example.com" in card_text(again) and "portal 101" in card_text(again)


async def test_reconnect_keeps_the_connection_and_another_portal_is_said(bot, slack, hubspot, storage):
    browser = Browser(bot, hubspot)
    browser.connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    first = await storage.connections.get("T0001", "hubspot")
    browser.connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    second = await storage.connections.get("T0001", "hubspot")
    assert second.id == first.id and second.credentials != first.credentials
    hubspot.next_install_portal = 202
    page = browser.connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    assert "portal202.example.com" in page.text and "portal101.example.com" in page.text
    third = await storage.connections.get("T0001", "hubspot")
    assert third.id == first.id and third.account_id == "202"
    assert "portal101.example.com" in slack.calls_to("chat.postMessage")[-1].args["text"]
    kinds = [kind for kind, _, _ in await storage.connections.history(first.id)]
    assert kinds == ["connected", "reconnected", "portal_changed"]


async def test_declined_consent_changes_nothing(bot, slack, hubspot, storage):
    page = Browser(bot, hubspot).connect(
        buttons(open_card(bot, slack))["connect_link:hubspot"]["url"], "deny"
    )
    assert page.status_code == 200 and escape(DENIED.format(provider="HubSpot")) in page.text
    assert await storage.connections.get("T0001", "hubspot") is None


async def test_replayed_callback_is_rejected_and_changes_nothing(bot, slack, hubspot, storage):
    browser = Browser(bot, hubspot)
    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    start = browser.start(url)
    callback = browser.consent(start.headers["location"]).headers["location"]
    state = parse_qs(urlparse(callback).query)["state"][0]
    assert browser.client.get(callback).status_code == 200
    before = await storage.connections.get("T0001", "hubspot")
    replay = browser.client.get(callback, cookies={COOKIE: state})
    assert replay.status_code == 400 and texts.LINK_PROBLEMS["used"].title in replay.text
    assert await storage.connections.get("T0001", "hubspot") == before
    assert browser.start(url).status_code == 400  # the Connect link is spent too


@pytest.mark.parametrize(
    "query,problem",
    [
        ({}, "unknown"),
        ({"state": "made-up", "code": "c"}, "unknown"),
        ({"state": "x" * 5000, "code": "c"}, "unknown"),
    ],
)
async def test_bad_callbacks_get_a_page_not_an_error(bot, storage, query, problem):
    page = httpx.get(f"{bot.url}/oauth/hubspot/callback", params=query)
    assert page.status_code == 400 and texts.LINK_PROBLEMS[problem].title in page.text
    assert "Traceback" not in page.text
    assert await storage.connections.get("T0001", "hubspot") is None


async def test_provider_error_parameter_is_shown_escaped(bot):
    page = httpx.get(
        f"{bot.url}/oauth/hubspot/callback",
        params={"error": "server_error", "error_description": "<script>alert(1)</script>"},
    )
    assert page.status_code == 400 and "<script>" not in page.text and "&lt;script&gt;" in page.text


async def test_expired_link_gets_a_friendly_page_before_hubspot(bot, slack, storage):
    from datetime import timedelta

    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    state = parse_qs(urlparse(url).query)["state"][0]
    # age the state in the database: the bot's clock is real
    from sqlalchemy import update

    from storage.models import OAuthState
    from storage.states import _hash

    async with storage.db.session() as session, session.begin():
        record = await storage.states.find(state, "connect")
        await session.execute(
            update(OAuthState)
            .where(OAuthState.state_hash == _hash(state))
            .values(expires_at=record.created_at - timedelta(seconds=1))
        )
    page = httpx.get(url)
    assert page.status_code == 400 and texts.LINK_PROBLEMS["expired"].title in page.text


async def test_state_from_another_workspace_or_browser_is_refused(bot, slack, hubspot, storage):
    browser = Browser(bot, hubspot)
    mine = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    theirs = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]  # stands for another team's link
    browser.start(mine)  # this browser holds the cookie of `mine`
    their_state = parse_qs(urlparse(theirs).query)["state"][0]
    page = browser.client.get(f"{bot.url}/oauth/hubspot/callback", params={"state": their_state, "code": "c"})
    assert page.status_code == 400 and texts.LINK_PROBLEMS["elsewhere"].title in page.text
    assert await storage.connections.get("T0001", "hubspot") is None


async def test_rejected_code_and_expired_code(bot, slack, hubspot, storage):
    browser = Browser(bot, hubspot)
    start = browser.start(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    callback = browser.consent(start.headers["location"]).headers["location"]
    tampered = callback.replace("code=", "code=x")
    page = browser.client.get(tampered)
    assert page.status_code == 400 and "HubSpot did not accept the approval" in page.text
    assert await storage.connections.get("T0001", "hubspot") is None


async def test_our_own_misconfiguration_does_not_blame_the_customer(
    serve, hub_settings, storage, slack, hubspot
):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    server = serve(hub_settings.with_overrides(hubspot_client_secret="wrong-secret"))
    page = Browser(server, hubspot).connect(buttons(open_card(server, slack))["connect_link:hubspot"]["url"])
    assert page.status_code == 502 and "misconfigured" in page.text and "whoever runs" in page.text
    assert "wrong-secret" not in page.text
    assert await storage.connections.get("T0001", "hubspot") is None


async def test_hubspot_5xx_is_retried_once_then_a_try_again_page(bot, slack, hubspot, storage):
    browser = Browser(bot, hubspot)
    hubspot.faults.fail_next("/oauth/2026-03/token", status=502, count=1)
    ok = browser.connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    assert ok.status_code == 200  # one 502, retried
    hubspot.faults.fail_next("/oauth/2026-03/token", status=503, count=2)
    page = browser.connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    assert page.status_code == 503 and "try again" in page.text.lower()


async def test_disconnect_revokes_deletes_and_records_who(bot, slack, hubspot, storage):
    Browser(bot, hubspot).connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    refresh_token = (await storage.connections.get("T0001", "hubspot")).credentials["refresh_token"]
    body = sr.action("disconnect:hubspot", value="hubspot", response_url=slack.response_url())
    assert post(bot, body).status_code == 200
    import asyncio

    for _ in range(100):  # the click is acknowledged first; the work and the card update follow
        if any("was disconnected" in json.dumps(r) for r in slack.responses):
            break
        await asyncio.sleep(0.05)
    connection = await storage.connections.get("T0001", "hubspot")
    assert connection.status == "disconnected" and connection.credentials == {}
    assert connection.disconnected_by == "U0001"
    assert refresh_token in hubspot.revoked
    updated = next(r for r in slack.responses if "was disconnected" in json.dumps(r))
    assert updated["replace_original"] is True
    assert buttons(updated)["connect_link:hubspot"]["text"]["text"] == cards.CONNECT
    assert "was disconnected by <@U0001>" in card_text(updated)


async def answer_of(slack, hook: str) -> dict:
    """A command acknowledged at once answers later through its response_url."""
    import asyncio

    hook_id = hook.rsplit("/", 1)[1]
    for _ in range(200):
        found = next((r for r in slack.responses if r["hook"] == hook_id), None)
        if found:
            return found
        await asyncio.sleep(0.025)
    raise AssertionError("no answer through response_url")


async def test_members_cannot_disconnect(bot, slack, hubspot, storage):
    Browser(bot, hubspot).connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    hook = slack.response_url()
    assert post(bot, sr.command("disconnect hubspot", user_id="U0002", response_url=hook)).status_code == 200
    assert "Only Slack admins" in (await answer_of(slack, hook))["text"]
    assert (await storage.connections.get("T0001", "hubspot")).status == "connected"


async def test_disconnect_command_acks_first_then_answers(bot, slack, hubspot, storage):
    Browser(bot, hubspot).connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    hook = slack.response_url()
    ack = post(bot, sr.command("disconnect hubspot", response_url=hook))
    assert ack.status_code == 200 and ack.text == ""
    answer = await answer_of(slack, hook)
    assert answer["response_type"] == "ephemeral" and "was disconnected by <@U0001>" in card_text(answer)
    assert (await storage.connections.get("T0001", "hubspot")).status == "disconnected"


async def test_link_buttons_are_acknowledged(bot, slack):
    click = sr.action("connect_link:hubspot", response_url=slack.response_url())
    assert post(bot, click).status_code == 200


async def test_slack_admins_grant_quolum_admins(bot, slack):
    assert "is now a Quolum admin" in post(bot, sr.command("admins add <@U0002|bob>")).text
    member_card = open_card(bot, slack, user="U0002")
    assert "connect_link:hubspot" in buttons(member_card)
    assert "<@U0002>" in post(bot, sr.command("admins list", user_id="U0002")).text
    assert (
        "Only Slack workspace owners" in post(bot, sr.command("admins remove <@U0002>", user_id="U0002")).text
    )
    assert "no longer a Quolum admin" in post(bot, sr.command("admins remove <@U0002>")).text
    assert "Usage" in post(bot, sr.command("admins add bob")).text


async def test_no_token_in_plaintext_in_database_or_logs(bot, slack, hubspot, storage, caplog):
    import asyncio
    import logging

    from core.logs import JsonFormatter
    from tests.handlers.test_events import assert_nowhere_in_database

    caplog.set_level(logging.DEBUG)
    hubspot.rotate_refresh_tokens = True
    secrets = set()
    Browser(bot, hubspot).connect(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
    connection = await storage.connections.get("T0001", "hubspot")
    secrets |= set(connection.credentials.values())
    # refresh it, as another replica using it would
    from bot.container import build_services
    from core.clock import utcnow

    async with httpx.AsyncClient() as http:
        replica = build_services(bot.settings, storage, utcnow, http)
        refreshed = await replica.credentials.current(
            connection.id, failed_token=connection.credentials["access_token"]
        )
    secrets |= set(refreshed.credentials.values())
    assert len(secrets) == 4
    for secret in secrets:
        await assert_nowhere_in_database(storage, secret)
    post(bot, sr.action("disconnect:hubspot", value="hubspot", response_url=slack.response_url()))
    for _ in range(100):
        if (await storage.connections.get("T0001", "hubspot")).status == "disconnected":
            break
        await asyncio.sleep(0.05)
    logs = "\n".join(r.getMessage() + JsonFormatter().format(r) for r in caplog.records)
    for secret in secrets | {HUB_SECRET}:
        await assert_nowhere_in_database(storage, secret)
        assert secret not in logs
    assert not [c for c in slack.calls if any(s in json.dumps(c.args) for s in secrets)]


HUB_SECRET = "test-client-secret"


async def test_a_code_that_expired_before_the_exchange(serve, hub_settings, storage, slack):
    """HubSpot's codes live about a minute: EXPIRED_AUTH_CODE is a page, not a connection."""
    import time

    from sandbox.standins.hubspot import HubSpotStandIn
    from sandbox.standins.hubspot_seed import generate_portal
    from sandbox.standins.server import ThreadedServer

    now = [time.time()]
    slow = HubSpotStandIn(
        client_id="test-client-id", client_secret="test-client-secret", clock=lambda: now[0]
    )
    from datetime import UTC, datetime

    slow.add_portal(
        generate_portal(
            1,
            portal_id=101,
            start=datetime(2026, 11, 1, tzinfo=UTC),
            end=datetime(2026, 11, 2, tzinfo=UTC),
            n_users=2,
            records_per_type=1,
        )
    )
    server = ThreadedServer(slow.app).start()
    slow.url = server.url
    try:
        await install(storage, slack)
        slack.add_user("U0001", is_admin=True)
        bot = serve(
            hub_settings.with_overrides(
                hubspot_api_url=slow.url, hubspot_authorize_url=f"{slow.url}/oauth/authorize"
            )
        )
        browser = Browser(bot, slow)
        start = browser.start(buttons(open_card(bot, slack))["connect_link:hubspot"]["url"])
        callback = browser.consent(start.headers["location"]).headers["location"]
        now[0] += 120
        page = browser.client.get(callback)
        assert page.status_code == 400 and "HubSpot did not accept the approval" in page.text
        assert await storage.connections.get("T0001", "hubspot") is None
    finally:
        server.stop()
