"""A provider that lives only under tests/ (tests/plugin_provider/: its entry, its hooks, its stand-in)
goes the whole way through the real app: it is on the Connections card, connects through the credential
modal, is collected into the digest, shows on App Home, and raises and resolves a reconnect alert.
Nothing outside its package knows it: the registry is all the bot needs (docs/adding-a-provider.md)."""

from __future__ import annotations

import json

import pytest

import tests.plugin_provider as seatly
from providers.registry import Installed, Registry, discover
from sandbox import slack_requests as sr
from sandbox.standins.server import serve_in_thread
from tests.conftest import install
from tests.plugin_provider.standin import TOKEN, SeatlyStandIn
from tests.services.test_alerts import alerts_in, replica
from tests.services.test_connections import buttons, card_text, open_card, post


@pytest.fixture
def standin():
    standin = SeatlyStandIn()
    with serve_in_thread(standin.app) as server:  # port 0
        standin.url = server.url
        yield standin


@pytest.fixture
def installed():
    """This test's registry: the installed providers and Seatly. The app is built with it; nothing
    module-level is changed, so the bot knows Seatly only through what it was given."""
    return Registry([*discover(), Installed.of(seatly)])


@pytest.fixture
async def bot(serve, hub_settings, storage, slack, standin, installed):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    return serve(hub_settings.with_overrides(seatly_api_url=standin.url), providers=installed)


async def eventually(check, tries: int = 240):
    import asyncio

    for _ in range(tries):
        if found := check():
            return found
        await asyncio.sleep(0.025)
    raise AssertionError("never happened")


async def connect_through_the_modal(bot, slack, token: str) -> dict:
    card = open_card(bot, slack)
    button = buttons(card)["connect_modal:seatly"]
    before = len(slack.calls_to("views.open"))
    post(
        bot, sr.action(button["action_id"], value=button.get("value", ""), response_url=slack.response_url())
    )
    view = (await eventually(lambda: slack.calls_to("views.open")[before:]))[0].args["view"]
    assert "Connect Seatly" in json.dumps(view) and "seats.read" in json.dumps(view)
    state = {"token": {"token": {"type": "plain_text_input", "value": token}}}
    reply = post(bot, sr.view_submission(view, state, team_id="T0001", user_id="U0001", view_id="V0SEATLY"))
    assert reply.status_code == 200
    return reply.json()


async def test_a_provider_defined_only_in_tests_goes_the_whole_way(
    bot, slack, standin, storage, clock, database_url, installed
):
    # on the Connections card, with its own Connect button
    card = open_card(bot, slack)
    assert "Seatly" in card_text(card) and "connect_modal:seatly" in buttons(card)

    # connects through the one credential modal, built from its form
    reply = await connect_through_the_modal(bot, slack, TOKEN)
    assert reply["view"]["title"]["text"] == "Seatly connected"
    connection = await storage.connections.get("T0001", "seatly")
    assert connection.status == "connected" and connection.account_name == "Acme on Seatly"
    assert connection.account_id == "ws-7" and connection.scopes == ("seats.read",)
    assert "(workspace ws-7)" in reply["view"]["blocks"][0]["text"]["text"]  # its own word for an account

    async with replica(bot.settings, database_url, clock, "r1", installed) as one:
        # collected: the digest reads it (through its collect hook) and names it
        digest = json.dumps(await one.digests.preview("T0001", "UTC"))
        assert "/v1/seats" in standin.requests and "Acme on Seatly" in digest
        # the digest renders Seatly's own report: its idle seat named, its own figure's label
        assert "1 of 3 paid seats idle" in digest and "bo@acme.example" in digest
        assert "Seats used" in digest

        # App Home shows it
        post(bot, sr.event({"type": "app_home_opened", "user": "U0001", "tab": "home"}))
        home = await eventually(lambda: slack.calls_to("views.publish"))
        assert "Seatly" in json.dumps(home[-1].args["view"])

        # its token is deleted at Seatly: the hourly check raises a reconnect alert
        standin.tokens.clear()
        record = await storage.connections.get("T0001", "seatly")
        await one.health.report(record, failure := await one.health.check(record))
        assert failure.kind == "revoked"
        [alert] = alerts_in(slack)
        assert "Seatly" in alert["text"] and "stopped working" in alert["text"]
        assert (await storage.connections.get("T0001", "seatly")).status == "needs_reconnect"

    # a new token through the same modal resolves it
    standin.tokens.add(TOKEN)
    await connect_through_the_modal(bot, slack, TOKEN)
    resolved = await eventually(lambda: "Resolved" in alerts_in(slack)[0]["text"] and alerts_in(slack)[0])
    assert "Seatly" in json.dumps(resolved["blocks"]) and len(alerts_in(slack)) == 1
    assert await storage.incidents.open_in_team("T0001") == {}


def test_it_is_nowhere_outside_its_package():
    """The point of the test above: no module of the bot mentions it."""
    from tests.test_no_provider_names import ROOT, bot_modules

    assert not [p for p in bot_modules() if "seatly" in p.read_text(encoding="utf-8").lower()]
    assert all(p.is_relative_to(ROOT / "tests") for p in (ROOT / "tests" / "plugin_provider").rglob("*.py"))
