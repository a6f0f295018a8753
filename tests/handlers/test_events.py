"""Slack OAuth install flow, uninstall/revocation clean-up, App Home, event de-duplication."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx

from messages import pages
from sandbox import slack_requests as sr
from tests.conftest import install


def post_event(server, event: dict, **kwargs) -> httpx.Response:
    body = sr.event(event, **kwargs)
    headers = sr.signed_headers(body, content_type="application/json")
    return httpx.post(f"{server.url}/slack/events", content=body, headers=headers, timeout=10)


async def test_install_flow_stores_the_bot_token_encrypted(serve, settings, storage, slack):
    server = serve(settings)
    with httpx.Client(base_url=server.url) as browser:
        start = browser.get("/slack/install")
        assert start.status_code == 302
        location = urlparse(start.headers["location"])
        assert location.netloc == "slack.com" and location.path == "/oauth/v2/authorize"
        query = parse_qs(location.query)
        assert query["client_id"] == [slack.client_id]
        assert "users:read" in query["scope"][0].split(",")
        state = query["state"][0]
        code = slack.issue_code("T0001")
        # Slack sends the browser back with code and state; the state cookie comes along
        done = browser.get(
            "/slack/oauth_redirect",
            params={"code": code, "state": state},
            cookies={"slack-app-oauth-state": start.cookies["slack-app-oauth-state"]},
        )
    assert done.status_code == 200, done.text
    assert pages.INSTALL_SUCCESS_TITLE in done.text and "Acme" in done.text
    assert slack.calls_to("oauth.v2.access")[0].args["code"] == code
    bot = await storage.installations.async_find_bot(enterprise_id=None, team_id="T0001")
    assert bot.bot_token == slack.workspaces["T0001"].bot_token
    await assert_nowhere_in_database(storage, bot.bot_token)


async def test_replayed_or_forged_install_callback_fails_cleanly(serve, settings, storage, slack):
    server = serve(settings)
    with httpx.Client(base_url=server.url) as browser:
        start = browser.get("/slack/install")
        state = parse_qs(urlparse(start.headers["location"]).query)["state"][0]
        cookies = {"slack-app-oauth-state": start.cookies["slack-app-oauth-state"]}
        first = browser.get(
            "/slack/oauth_redirect",
            params={"code": slack.issue_code("T0001"), "state": state},
            cookies=cookies,
        )
        assert first.status_code == 200
        again = browser.get(
            "/slack/oauth_redirect",
            params={"code": slack.issue_code("T0001"), "state": state},
            cookies=cookies,
        )
        denied = browser.get("/slack/oauth_redirect", params={"error": "access_denied", "state": "x"})
    assert again.status_code in (400, 401)  # the state was used once already (Bolt: invalid_state)
    assert denied.status_code == 200  # Bolt's choice for a user who said no: not an error of ours
    for page in (again, denied):
        assert pages.INSTALL_FAILURE_TITLE in page.text
        assert "Traceback" not in page.text
    assert len(slack.calls_to("oauth.v2.access")) == 1


async def test_app_uninstalled_forgets_the_workspace(serve, settings, storage, slack):
    await install(storage, slack)
    state = await storage.states.issue("connect", ttl=timedelta(minutes=10), team_id="T0001")
    await storage.connections.save_connected(
        team_id="T0001",
        provider="sendgrid",
        account_id="1",
        account_name="acme",
        connected_by="U1",
        credentials={"api_key": "SG.x.y"},
        scopes=[],
        details={},
    )
    await storage.digests.sent_now("T0001", "C0001", "1.2")  # a digest posted on demand
    server = serve(settings)
    assert post_event(server, {"type": "app_uninstalled"}).status_code == 200
    await wait_for(lambda: storage.installations.async_find_bot(enterprise_id=None, team_id="T0001"), None)
    assert await storage.states.find(state, "connect") is None
    assert await storage.connections.for_team("T0001") == {}
    assert await storage.digests.last_on_demand("T0001") is None


async def test_tokens_revoked_for_the_bot_forgets_the_workspace(serve, settings, storage, slack):
    await install(storage, slack)
    server = serve(settings)
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT0001"]}}
    assert post_event(server, event).status_code == 200
    await wait_for(lambda: storage.installations.async_find_bot(enterprise_id=None, team_id="T0001"), None)


async def test_app_home_is_published_once_per_event_id(serve, settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001")
    server = serve(settings)
    event = {"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home"}
    for _retry in range(3):  # Slack retries an event it thinks we missed
        assert post_event(server, event, event_id="EvHOME").status_code == 200
    await wait_for(lambda: _count(slack, "views.publish"), 1)
    view = slack.calls_to("views.publish")[0].args["view"]
    assert view["type"] == "home"


async def _count(slack, method):
    return len(slack.calls_to(method))


async def wait_for(probe, expected, timeout: float = 5.0):
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value == expected or asyncio.get_running_loop().time() > deadline:
            assert value == expected
            return value
        await asyncio.sleep(0.05)


async def assert_nowhere_in_database(storage, secret: str) -> None:
    """Scan every column of every table for the plaintext secret."""
    from sqlalchemy import select

    from storage.models import Base

    async with storage.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert secret not in repr(tuple(row)), f"plaintext secret in {table.name}"
