"""Text from people and providers reaches mrkdwn escaped (`&`, `<`, `>`), so it cannot mention
@channel, a person or a link in the bot's name."""

from __future__ import annotations

import json

import pytest

from messages import blocks, cards
from providers.plugin import Verified
from providers.sendgrid.entry import SPEC as SENDGRID
from sandbox import slack_requests as sr
from services import credential_connect as sgc
from tests.conftest import connect_hubspot, install
from tests.handlers.test_digest import run
from tests.services.test_credentials import record
from tests.services.test_invites import invite
from tests.test_web import post, reply_text

LIVE = ("<!channel>", "<!here>", "<@U0001>", "<https://evil.example|click>")


def assert_inert(message) -> None:
    text = json.dumps(message)
    for live in LIVE:
        assert live not in text, text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),
        ("plain", "plain"),
    ],
)
def test_escape(text, expected):
    assert blocks.escape(text) == expected


def test_help_echo_is_inert():
    message = blocks.help_message([("help", "h")], not_understood="x` <!channel> `y")
    assert_inert(message)
    assert "x` &lt;!channel&gt; `y" in message["text"]


def test_a_provider_account_name_is_inert_on_the_card_and_in_the_note():
    connection = record(provider="sendgrid", account_id="<!here>", account_name="<!channel> & co")
    card = cards.connections_card(
        [cards.Row(spec=SENDGRID, available=True, connection=connection)], can_connect=True
    )
    assert_inert(card)
    assert "&lt;!channel&gt; &amp; co" in json.dumps(card)
    note = sgc.connected_note(
        SENDGRID,
        Verified(scopes=(), missing=(), account_id="<!here>", account_name="<!channel>"),
        "<!channel>",
        None,
    )
    assert_inert(note)


@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user("U0002")
    return serve(hub_settings)


@pytest.mark.parametrize(
    "text", ["x` <!channel> `y", "connect <!here>", "connect <https://evil.example|click>"]
)
async def test_commands_echo_user_text_inert(bot, text):
    body = sr.command(text)
    response = post(bot, body, sr.signed_headers(body))
    assert response.status_code == 200
    assert_inert(response.text)
    assert "&lt;" in reply_text(response)


async def test_invite_echoes_strays_inert(bot, slack):
    reply = await invite(bot, slack, "<!channel> hubspot")
    assert_inert(reply)


# --- echoes of what someone typed: cut to blocks.ECHO_LIMIT characters and escaped -----------------------
LONG_ZONE = "Europe/" + "x" * 20_000
HOSTILE_INPUT = ["<!channel>", "<http://evil.example|Click>", "x<@U0002>", "x<#C0001>", LONG_ZONE]


@pytest.mark.parametrize("typed", HOSTILE_INPUT, ids=["everyone", "link", "mention", "channel", "20k"])
@pytest.mark.parametrize(
    "template",
    [
        "{x}",  # not a command: help, saying what was not understood
        "connect {x}",
        "disconnect {x}",
        "price {x} 10",
        "digest subscribe {x}",
        "digest subscribe tz {x}",
        "digest tz {x}",
        "invite {x}",
    ],
)
async def test_every_echo_of_input_is_cut_and_escaped(bot, slack, template, typed):
    reply = await run(bot, slack, template.format(x=typed))
    shown = json.dumps(reply, ensure_ascii=False)
    assert typed not in shown, shown[:300]
    assert blocks.echo(typed) in reply["text"], reply["text"]
    assert len(reply["text"]) < 400  # the sentence and at most ECHO_LIMIT characters of input


@pytest.mark.parametrize(
    "typed,echoed",
    [
        ("short", "short"),
        ("<!here>", "&lt;!here&gt;"),
        ("a" * 80, "a" * 80),
        ("a" * 81, "a" * 79 + "…"),
        ("<" * 100, "&lt;" * 79 + "…"),  # cut first, then escaped: never half an entity
    ],
)
def test_echo(typed, echoed):
    assert blocks.echo(typed) == echoed


async def test_already_connected_names_a_hostile_account_inert(bot, slack, storage, hubspot):
    await connect_hubspot(storage, hubspot, 101, ["oauth"])
    connection = await storage.connections.get("T0001", "hubspot")
    await storage.connections.save_connected(
        team_id="T0001",
        provider="hubspot",
        account_id="101",
        account_name="<!channel> <http://evil.example|Click here>",
        credentials=connection.credentials,
        connected_by="U0001",
        scopes=list(connection.scopes),
        details={},
    )
    reply = await invite(bot, slack, "<@U0002> hubspot")
    assert "<!channel>" not in reply["text"] and "<http://evil" not in reply["text"]
    assert "(to &lt;!channel&gt; &lt;http://evil.example|Click here&gt;)" in reply["text"]
