"""Text from people and providers reaches mrkdwn escaped (`&`, `<`, `>`), so it cannot mention
@channel, a person or a link in the bot's name."""

from __future__ import annotations

import json

import pytest

from bot.messages import blocks, cards
from bot.services import sendgrid_connect as sgc
from providers.catalogue import SENDGRID
from providers.sendgrid import KeyInfo
from sandbox import slack_requests as sr
from tests.conftest import install
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
        KeyInfo(scopes=(), missing=(), user_id="<!here>", username="<!channel>"), "<!channel>", None
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
