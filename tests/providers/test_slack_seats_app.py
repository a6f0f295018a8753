"""Slack seats through the real app: on the Connections card, connected through the one credential
modal with the workspace's own bot token (nothing pasted), then *Connect Slack billing* through the
generic OAuth routes adds an admin's user token; the digest shows members and guests (and, without
the grant, says billing needs an admin); a revoked admin token has no refresh token, so it needs
reconnecting at once."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from providers.plugin import BEARER
from providers.slack_seats.usage import NEEDS_ADMIN
from sandbox import slack_requests as sr
from sandbox.standins.slack_seats_seed import seed_workspace
from tests.conftest import install
from tests.services.test_alerts import alerts_in, replica
from tests.services.test_connections import buttons, card_text, open_card, post
from tests.test_plugin_provider import eventually

KEY = "slack_seats"


@pytest.fixture
async def bot(serve, settings, storage, slack, clock):
    await install(storage, slack)
    seed_workspace(slack, "T0001", now=clock(), n_users=30)
    slack.add_user("U0001", is_admin=True)
    return serve(settings)


async def connect_with_the_bot_token(bot, slack) -> dict:
    button = buttons(open_card(bot, slack))[f"connect_modal:{KEY}"]
    before = len(slack.calls_to("views.open"))
    post(bot, sr.action(button["action_id"], value=button["value"], response_url=slack.response_url()))
    view = (await eventually(lambda: slack.calls_to("views.open")[before:]))[0].args["view"]
    assert not [b for b in view["blocks"] if b["type"] == "input"]  # nothing to paste
    assert "users:read" in json.dumps(view)
    reply = post(bot, sr.view_submission(view, {}, team_id="T0001", user_id="U0001", view_id="V0SEATS"))
    assert reply.status_code == 200
    return reply.json()


def grant(bot, slack, url: str, user: str = "U000100001") -> httpx.Response:
    """A browser following *Connect Slack billing*: the bot's start page, Slack's consent, back."""
    with httpx.Client(timeout=10) as browser:
        start = browser.get(url)
        assert start.status_code == 302, start.text
        consent = urlsplit(start.headers["location"])
        query = parse_qs(consent.query)
        assert consent.path == "/oauth/v2/authorize" and query["user_scope"] == ["admin,users:read"]
        code = slack.issue_user_code("T0001", user)
        return browser.get(query["redirect_uri"][0], params={"code": code, "state": query["state"][0]})


async def test_connect_with_the_bot_token_then_slack_billing(bot, slack, storage, clock, database_url):
    reply = await connect_with_the_bot_token(bot, slack)
    assert reply["view"]["title"]["text"] == "Slack connected"
    assert NEEDS_ADMIN in json.dumps(reply["view"])  # one sentence: billing and activity need an admin
    connection = await storage.connections.get("T0001", KEY)
    assert connection.status == "connected" and connection.account_id == "T0001"
    assert connection.credentials == {BEARER: slack.workspaces["T0001"].bot_token}
    assert "admin" not in connection.scopes

    async with replica(bot.settings, database_url, clock, "r1") as one:
        digest = json.dumps(await one.digests.preview("T0001", "UTC"))
        assert "Multi-channel guests" in digest and "Single-channel guests" in digest
        assert json.dumps(NEEDS_ADMIN)[1:-1] in digest  # says what is missing, never 0 for it
        assert "of 0 paid seats" not in digest
        # exactly: members and both kinds of guests as the seed holds them, the two signals it could
        # not read named, and no figure (idle, active, billable) standing in for them
        truth = slack.seats_truth("T0001", clock())
        for label, value in (
            ("Members", truth.members),
            ("Multi-channel guests (billed)", truth.multi_guests),
            ("Single-channel guests", truth.single_guests),
        ):
            assert f"*{label}*\\n{value}" in digest
        # the two signals it could not read, for one reason: named together, the sentence said once
        assert "Billing and access logs unavailable" in digest
        assert digest.count(json.dumps(NEEDS_ADMIN)[1:-1]) == 1
        for unread in ("paid seats idle", "Active paid users", "Billable members", "no access"):
            assert unread not in digest

    # the card now offers the admin's consent beside Reconnect
    link = buttons(open_card(bot, slack))[f"connect_link:{KEY}"]
    assert link["text"]["text"] == "Connect Slack billing"
    page = grant(bot, slack, link["url"])
    assert page.status_code == 200 and "Slack is connected" in page.text
    connection = await storage.connections.get("T0001", KEY)
    assert connection.credentials[BEARER] == slack.workspaces["T0001"].bot_token  # kept beside
    assert connection.credentials["access_token"].startswith("xoxp-")
    assert {"admin", "users:read"} <= set(connection.scopes)
    assert connection.details["billing_admin"] == "U000100001"

    # the card now shows the grant held: its own line, and the consent offered again, not a first time
    card = open_card(bot, slack)
    assert buttons(card)[f"connect_link:{KEY}"]["text"]["text"] == "Reconnect Slack billing"
    assert buttons(card)[f"connect_modal:{KEY}"]["text"]["text"] == "Reconnect"
    assert "Connect Slack billing" not in card_text(card)
    [row] = [b for b in card["blocks"] if b.get("block_id") == f"row:{KEY}"]
    assert "Slack billing connected" in row["text"]["text"]

    async with replica(bot.settings, database_url, clock, "r1") as one:
        report = await one.usage.collect_and_store(connection, "last-30-days")
        assert slack.calls_to("team.billableInfo") and slack.calls_to("team.accessLogs")
        assert report.signals.unavailable == () and report.seats.active_paid_users is not None
        truth = slack.seats_truth("T0001", report.period.start_utc)
        assert report.seats.paid_seats == truth.billable
        assert {s.user_id for s in report.seats.inactive_paid_users} == truth.idle

        # the admin's token is revoked: no refresh token was stored, so it needs reconnecting at once
        slack.revoke(connection.credentials["access_token"])
        record = await storage.connections.get("T0001", KEY)
        failure = await one.health.check(record)
        await one.health.report(record, failure)
        assert failure.kind == "revoked"
        assert (await storage.connections.get("T0001", KEY)).status == "needs_reconnect"
        [alert] = alerts_in(slack)
        assert "Slack" in alert["text"] and "stopped working" in alert["text"]

    # the admin connects Slack billing again from the card: connected, and the alert resolved
    link = buttons(open_card(bot, slack))[f"connect_link:{KEY}"]
    assert grant(bot, slack, link["url"]).status_code == 200
    record = await storage.connections.get("T0001", KEY)
    assert (
        record.status == "connected"
        and record.credentials["access_token"] != connection.credentials["access_token"]
    )
    async with replica(bot.settings, database_url, clock, "r1") as one:
        await one.health.report(record, await one.health.check(record))
    resolved = await eventually(lambda: "Resolved" in alerts_in(slack)[0]["text"] and alerts_in(slack)[0])
    assert "Slack" in json.dumps(resolved["blocks"]) and len(alerts_in(slack)) == 1
    assert await storage.incidents.open_in_team("T0001") == {}


async def test_the_card_names_it_and_members_see_no_buttons(bot, slack):
    slack.add_user("U0002")
    assert "Slack" in card_text(open_card(bot, slack))
    member = open_card(bot, slack, user="U0002", text="status")
    assert f"connect_modal:{KEY}" not in buttons(member)


async def test_a_consent_for_another_workspace_is_given_back(bot, slack, storage):
    await connect_with_the_bot_token(bot, slack)
    slack.add_workspace("T0002", "Other")
    slack.add_user("U0002X", "T0002", is_admin=True)
    link = buttons(open_card(bot, slack))[f"connect_link:{KEY}"]
    with httpx.Client(timeout=10) as browser:
        start = browser.get(link["url"])
        query = parse_qs(urlsplit(start.headers["location"]).query)
        code = slack.issue_user_code("T0002", "U0002X")  # the admin was signed in to another workspace
        page = browser.get(query["redirect_uri"][0], params={"code": code, "state": query["state"][0]})
    assert page.status_code == 400 and "Other" in page.text and "gave the access back" in page.text
    [revoke] = slack.calls_to("auth.revoke")
    assert revoke.token in slack.revoked  # the user token was revoked at Slack
    connection = await storage.connections.get("T0001", KEY)
    assert "access_token" not in connection.credentials and "admin" not in connection.scopes
