"""An invitation grants exactly one person one provider, once, while it is open: nothing else, anywhere.

End to end through the real server with the Slack, HubSpot and SendGrid stand-ins: an invited member
who connects SendGrid from the invitation DM gets no Connections card (no HubSpot Connect link), and a
declined, expired, used, someone else's or another provider's invitation connects nothing.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from core.clock import FrozenClock
from messages import invite_blocks as ib
from sandbox import sendgrid_modal as modal
from sandbox import slack_requests as sr
from services import connections as texts
from services import credential_connect as sgc
from storage.invitations import DECLINED, InvitationStore
from tests.conftest import SENDGRID_ACCOUNT, install
from tests.services.test_connections import Browser, buttons, post
from tests.services.test_credential_connect import ALL_SCOPES, submit
from tests.services.test_invites import click, dm_button, invitation_dm, invite, until

INVITER, ADMIN, OTHER = "U0002", "U0003", "U0004"


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
async def bot(serve, hub_settings, sendgrid, storage, slack, clock):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    for member in (INVITER, ADMIN, OTHER):
        slack.add_user(member)  # none of them a Slack or Quolum admin
    return serve(hub_settings.with_overrides(sendgrid_api_url=sendgrid.url), clock=clock)


async def invited(bot, slack, provider: str) -> str:
    await invite(bot, slack, f"<@{ADMIN}> {provider}")
    return dm_button(invitation_dm(slack), ib.INVITE_CONNECT)["value"]


async def open_from_invitation(bot, slack, invitation_id: str) -> tuple[dict, str]:
    """The invitee clicks the DM's Connect button; returns (the SendGrid modal, the DM's response_url)."""
    before = len(slack.calls_to("views.open"))
    hook = slack.response_url()
    body = sr.action(ib.INVITE_CONNECT, value=invitation_id, user_id=ADMIN, response_url=hook)
    assert post(bot, body).status_code == 200
    await until(lambda: len(slack.calls_to("views.open")) > before)
    return slack.calls_to("views.open")[-1].args["view"], hook


async def test_an_invitee_connecting_sendgrid_gets_no_card_and_no_hubspot_link(bot, slack, sendgrid, storage):
    invitation_id = await invited(bot, slack, "sendgrid")
    view, hook = await open_from_invitation(bot, slack, invitation_id)
    reply = submit(bot, view, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES), user_id=ADMIN).json()
    assert reply["view"]["title"]["text"] == modal.CONNECTED_TITLE
    await until(lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == INVITER])
    assert (await storage.connections.get("T0001", "sendgrid")).connected_by == ADMIN
    assert (await storage.invitations.get(invitation_id)).status == "accepted"
    # nothing was posted to the invitation DM's response_url: no card, so no HubSpot Connect link
    hook_id = hook.rsplit("/", 1)[1]
    assert [r for r in slack.responses if r["hook"] == hook_id] == []
    everything = json.dumps(slack.responses) + json.dumps([c.args for c in slack.calls])
    assert "connect_link:hubspot" not in everything and "/oauth/hubspot/start" not in everything
    assert await storage.connections.get("T0001", "hubspot") is None


@pytest.mark.parametrize("how", ["declined", "expired", "used", "someone_else", "other_provider"])
async def test_a_closed_or_foreign_invitation_connects_nothing(bot, slack, sendgrid, storage, clock, how):
    invitation_id = await invited(bot, slack, "hubspot" if how == "other_provider" else "sendgrid")
    user = OTHER if how == "someone_else" else ADMIN
    # the modal as the invitation opened it (a kept-open window, or metadata aimed at an invitation)
    view = modal.connect_modal(sgc.ModalContext("T0001", user, None, None, invitation_id))
    if how == "declined":
        await click(bot, slack, ib.INVITE_DECLINE, invitation_id, ADMIN)
        assert (await storage.invitations.get(invitation_id)).status == "declined"
    elif how == "expired":
        clock.advance(days=7, seconds=1)
    elif how == "used":
        frozen = InvitationStore(storage.db, clock)  # the server's clock: the invitation is open on it
        assert await frozen.accept(invitation_id, team_id="T0001", invitee_id=ADMIN, provider="sendgrid")
    reply = submit(bot, view, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES), user_id=user).json()
    assert reply["response_action"] == "update"
    assert reply["view"]["title"]["text"] != modal.CONNECTED_TITLE
    assert await storage.connections.get("T0001", "sendgrid") is None
    assert sendgrid.requests == []  # refused before the key went anywhere


async def test_an_invitation_declined_after_the_check_is_refused_when_the_key_is_saved(
    bot, slack, sendgrid, storage
):
    """The look before SendGrid is asked is not the permission: spending the invitation is."""
    invitation_id = await invited(bot, slack, "sendgrid")
    view, _ = await open_from_invitation(bot, slack, invitation_id)
    sendgrid.faults.hang_next("/v3/scopes", seconds=1.5)
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    answer = asyncio.create_task(asyncio.to_thread(submit, bot, view, key, user_id=ADMIN))
    # the invitee says "Not me" while SendGrid is checking the key: once the check has reached it
    # (a fixed sleep raced the look before it on a loaded machine)
    await until(lambda: any(r["path"] == "/v3/scopes" for r in sendgrid.requests))
    assert await storage.invitations.close(invitation_id, DECLINED)
    reply = (await answer).json()
    assert sgc.INVITATION_CLOSED in json.dumps(reply)
    assert await storage.connections.get("T0001", "sendgrid") is None


async def test_a_hubspot_link_from_an_invitation_declined_meanwhile_connects_nothing(
    bot, slack, hubspot, storage
):
    invitation_id = await invited(bot, slack, "hubspot")
    answer = await click(bot, slack, ib.INVITE_CONNECT, invitation_id, ADMIN)
    url = buttons(answer)["connect_link:hubspot"]["url"]
    await click(bot, slack, ib.INVITE_DECLINE, invitation_id, ADMIN)
    page = Browser(bot, hubspot).connect(url)
    assert page.status_code == 400 and texts.INVITATION_CLOSED.title in page.text
    assert await storage.connections.get("T0001", "hubspot") is None
