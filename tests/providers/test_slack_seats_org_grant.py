"""*Connect Slack billing* with an org-wide token (Enterprise Grid), through the real app: when the
Quolum app is installed org-wide, an org admin's consent answers as Slack's reference samples it
(`oauth.v2.access`: `team` null, the org under `enterprise`, `is_enterprise_install` true; auth.test:
the org's `E…` as `team_id`), and the token must name a workspace (`team_id`) on every call. Quolum
keeps it as this workspace's grant when it reads this workspace's members (stored beside the bot token,
the org noted, every collection call naming the workspace, the digest saying what an org-wide install
sees); for a workspace the app was not added to, it gives the token back and says so."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from providers.plugin import BEARER
from providers.slack_seats.usage import GRID_NOTE
from sandbox.standins.slack_seats_seed import seed_workspace
from tests.conftest import install
from tests.providers.test_slack_seats_app import connect_with_the_bot_token
from tests.services.test_alerts import replica
from tests.services.test_connections import buttons, open_card

KEY, ORG, TEAM, OTHER = "slack_seats", "E0001", "T0001", "T0002"
ORG_ADMIN = "U000100001"  # the seed's admin of T0001, an org admin too
SEAT_METHODS = ("users.list", "team.billableInfo", "team.accessLogs")


@pytest.fixture
async def bot(serve, settings, storage, slack, clock):
    """T0001, a workspace of the Grid org E0001, connected with its own bot token."""
    await install(storage, slack)
    slack.workspaces[TEAM].enterprise_id = ORG
    seed_workspace(slack, TEAM, now=clock(), n_users=30)
    slack.add_user("U0001", is_admin=True)
    bot = serve(settings)
    await connect_with_the_bot_token(bot, slack)
    return bot


def consent(bot, slack, team: str, user: str = ORG_ADMIN) -> httpx.Response:
    """The org admin follows the card's *Connect Slack billing* and approves for `team` (the org)."""
    link = buttons(open_card(bot, slack))[f"connect_link:{KEY}"]
    with httpx.Client(timeout=10) as browser:
        start = browser.get(link["url"])
        query = parse_qs(urlsplit(start.headers["location"]).query)
        code = slack.issue_user_code(team, user)
        return browser.get(query["redirect_uri"][0], params={"code": code, "state": query["state"][0]})


def test_what_slack_answers_for_an_org_wide_consent(bot, slack):
    slack.add_org_install(ORG, "Acme Org", teams=(TEAM,))
    code = slack.issue_user_code(ORG, ORG_ADMIN)
    form = {"client_id": slack.client_id, "client_secret": slack.client_secret, "code": code}
    answer = httpx.post(f"{slack.url}/api/oauth.v2.access", data=form, timeout=5).json()
    assert answer["ok"] and answer["is_enterprise_install"] is True
    assert answer["team"] is None and answer["enterprise"]["id"] == ORG
    token = answer["authed_user"]["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    who = httpx.get(f"{slack.url}/api/auth.test", headers=auth, timeout=5).json()
    assert who["team_id"] == ORG and who["enterprise_id"] == ORG and who["is_enterprise_install"] is True
    for method in SEAT_METHODS:  # "required if org token is used"
        refused = httpx.get(f"{slack.url}/api/{method}", headers=auth, timeout=5).json()
        assert refused == {"ok": False, "error": "missing_argument"}
        named = httpx.get(f"{slack.url}/api/{method}", params={"team_id": TEAM}, headers=auth, timeout=5)
        assert named.json()["ok"] is True


async def test_an_org_admins_org_wide_token_is_this_workspaces_grant(
    bot, slack, storage, clock, database_url
):
    slack.add_org_install(ORG, "Acme Org", teams=(TEAM, OTHER))
    page = consent(bot, slack, ORG)
    assert page.status_code == 200 and "Slack is connected" in page.text and "Acme" in page.text

    connection = await storage.connections.get(TEAM, KEY)
    assert connection.account_id == TEAM and connection.account_name == "Acme"  # the workspace, not the org
    assert connection.credentials[BEARER] == slack.workspaces[TEAM].bot_token  # kept beside
    org_token = connection.credentials["access_token"]
    assert slack.user_grants[org_token].team_id == ORG  # the org's token, stored as this workspace's grant
    assert connection.details["enterprise_id"] == ORG and connection.details["org_wide"] is True
    assert connection.details["billing_admin"] == ORG_ADMIN and "admin" in connection.scopes
    card = open_card(bot, slack)
    assert buttons(card)[f"connect_link:{KEY}"]["text"]["text"] == "Reconnect Slack billing"

    before = len(slack.calls)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        report = await one.usage.collect_and_store(connection, "last-30-days")
        digest = json.dumps(await one.digests.preview(TEAM, "UTC"))
    calls = [c for c in slack.calls[before:] if c.method in SEAT_METHODS]
    assert {c.method for c in calls} == set(SEAT_METHODS)
    assert {c.args.get("team_id") for c in calls} == {TEAM}  # every call, every page names the workspace
    truth = slack.seats_truth(TEAM, report.period.start_utc)
    assert report.seats.paid_seats == truth.billable and report.signals.unavailable == ()
    assert {s.user_id for s in report.seats.inactive_paid_users} == truth.idle
    assert json.dumps(GRID_NOTE)[1:-1] in digest  # what an org-wide install sees: this workspace only


async def test_an_org_wide_token_that_does_not_reach_this_workspace_is_given_back(bot, slack, storage):
    slack.add_org_install(ORG, "Acme Org", teams=(OTHER,))  # the app was not added to T0001
    page = consent(bot, slack, ORG)
    assert page.status_code == 400 and "gave the access back" in page.text and "Acme Org" in page.text
    assert "adds Quolum to" in page.text and "sign in to" not in page.text  # the fix is in the org
    [revoke] = slack.calls_to("auth.revoke")
    assert revoke.token in slack.revoked
    connection = await storage.connections.get(TEAM, KEY)
    assert "access_token" not in connection.credentials and "admin" not in connection.scopes
    assert buttons(open_card(bot, slack))[f"connect_link:{KEY}"]["text"]["text"] == "Connect Slack billing"
