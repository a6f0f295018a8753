"""GitHub and Zoom through the real app, each against its stand-in (tests/services/seat_provider_rigs.py):
connecting through the credential modal (good credentials; wrong ones and too few permissions, each
answered with the provider's own sentence naming what is wrong)."""

from __future__ import annotations

import asyncio
import json

import pytest

from providers.registry import INSTALLED
from sandbox import slack_requests as sr
from tests.conftest import install
from tests.services.seat_provider_rigs import RIGS, Rig
from tests.services.test_connections import buttons, open_card, post


@pytest.fixture(params=sorted(RIGS))
def rig(request, clock):
    rig = RIGS[request.param](clock)
    yield rig
    rig.stop()


@pytest.fixture
async def bot(serve, settings, storage, slack, rig):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    return serve(settings.with_overrides(**rig.settings))


async def eventually(check, tries: int = 240):
    for _ in range(tries):
        if found := check():
            return found
        await asyncio.sleep(0.025)
    raise AssertionError("never happened")


async def submit(bot, slack, rig: Rig, values: dict[str, str]) -> dict:
    """Open the provider's modal from the Connections card and submit `values`: Slack's answer."""
    button = buttons(open_card(bot, slack))[f"connect_modal:{rig.key}"]
    before = len(slack.calls_to("views.open"))
    post(
        bot, sr.action(button["action_id"], value=button.get("value", ""), response_url=slack.response_url())
    )
    view = (await eventually(lambda: slack.calls_to("views.open")[before:]))[0].args["view"]
    state = {name: {name: {"type": "plain_text_input", "value": value}} for name, value in values.items()}
    reply = post(bot, sr.view_submission(view, state, team_id="T0001", user_id="U0001", view_id="V0FORM"))
    assert reply.status_code == 200
    return reply.json()


def shown(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


# --- connecting -----------------------------------------------------------------------------------
async def test_good_credentials_connect(bot, slack, storage, rig):
    reply = await submit(bot, slack, rig, rig.good())
    assert reply["response_action"] == "update"
    assert reply["view"]["title"]["text"] == f"{rig.display_name} connected"
    assert ":warning:" not in shown(reply)
    connection = await storage.connections.get("T0001", rig.key)
    assert connection.status == "connected" and connection.unavailable == ()
    assert set(INSTALLED[rig.key].required_scopes) <= set(connection.scopes)


async def test_wrong_credentials_are_refused_with_the_providers_sentence(bot, slack, storage, rig):
    reply = await submit(bot, slack, rig, rig.wrong())
    secret = INSTALLED[rig.key].form.secret.name
    assert reply == {"response_action": "errors", "errors": {secret: rig.wrong_sentence}}
    assert await storage.connections.get("T0001", rig.key) is None


async def test_too_few_permissions_are_named_in_one_sentence(bot, slack, storage, rig):
    reply = await submit(bot, slack, rig, rig.too_few())
    assert reply["view"]["title"]["text"] == f"{rig.display_name} connected"
    text = reply["view"]["blocks"][0]["text"]["text"]
    assert text.endswith(f":warning: {rig.too_few_sentence}")
    assert text.count(":warning:") == 1  # the provider's sentence instead of the generic list
    [missing] = (await storage.connections.get("T0001", rig.key)).unavailable
    assert f"*{missing}*" in rig.too_few_sentence  # it names the permission the credential lacks
