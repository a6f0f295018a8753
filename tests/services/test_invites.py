"""`/quolum invite`: end to end through the real server and the Slack and HubSpot stand-ins."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from core.clock import FrozenClock
from messages import invite_blocks as ib
from providers.registry import INSTALLED
from sandbox import slack_requests as sr
from tests.conftest import install
from tests.services.test_connections import Browser, buttons, post

INVITER, ADMIN, OTHER = "U0002", "U0003", "U0004"
FIRST = next(iter(INSTALLED.values()))  # an invitation naming no provider is for the first installed one


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
async def bot(serve, hub_settings, storage, slack, clock):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_user(INVITER)  # a member who wants the data
    slack.add_user(ADMIN)  # HubSpot's admin, not a Slack admin
    slack.add_user(OTHER)
    slack.add_user("UBOT", is_bot=True)
    slack.add_user("UGONE", deleted=True)
    slack.add_user("UGUEST", is_restricted=True)
    return serve(hub_settings.with_overrides(invites_per_day=3), clock=clock)


async def until(probe, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        value = probe()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def invite(bot, slack, text: str, user=INVITER) -> dict:
    """Run the command; the answer comes through response_url (the DM is sent after the ack)."""
    hook = slack.response_url()
    response = post(bot, sr.command(f"invite {text}", user_id=user, response_url=hook))
    assert response.status_code == 200
    hook_id = hook.rsplit("/", 1)[1]
    return await until(lambda: next((r for r in slack.responses if r["hook"] == hook_id), None))


async def click(bot, slack, action_id: str, value: str, user: str) -> dict:
    hook = slack.response_url()
    assert post(bot, sr.action(action_id, value=value, user_id=user, response_url=hook)).status_code == 200
    hook_id = hook.rsplit("/", 1)[1]
    return await until(lambda: next((r for r in slack.responses if r["hook"] == hook_id), None))


def invitation_dm(slack, user=ADMIN):
    dms = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "D" + user[1:]]
    return dms[-1] if dms else None


def dm_button(dm, action_id) -> dict:
    return buttons(dm.args)[action_id]


async def test_member_invites_admin_who_connects_and_inviter_is_told(bot, slack, hubspot, storage):
    reply = await invite(bot, slack, f"<@{ADMIN}|dana> hubspot")
    assert reply["text"].startswith(ib.SENT.format(user=ADMIN, provider="HubSpot"))
    dm = invitation_dm(slack)
    assert ib.DM_TITLE.format(inviter=INVITER, provider="HubSpot") == dm.args["text"]
    assert "list users and the paid seats assigned to them" in json.dumps(dm.args["blocks"])
    assert {"invite_connect", "invite_decline"} <= set(buttons(dm.args))
    invitation_id = dm_button(dm, "invite_connect")["value"]
    assert (await storage.invitations.get(invitation_id)).status == "open"

    answer = await click(bot, slack, "invite_connect", invitation_id, ADMIN)
    assert answer["response_type"] == "ephemeral"
    url = buttons(answer)["connect_link:hubspot"]["url"]
    page = Browser(bot, hubspot).connect(url)
    assert page.status_code == 200 and "Connected to portal101.example.com" in page.text

    connection = await storage.connections.get("T0001", "hubspot")
    assert connection.status == "connected" and connection.connected_by == ADMIN
    assert (await storage.invitations.get(invitation_id)).status == "accepted"
    told = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == INVITER]
    assert told[-1].args["text"] == ib.ACCEPTED_INVITER.format(invitee=ADMIN, provider="HubSpot")
    updated = slack.calls_to("chat.update")[-1]
    assert updated.args["ts"] == invitation_dm(slack).args.get("ts", updated.args["ts"])
    assert "invite_connect" not in json.dumps(updated.args.get("blocks", []))


async def test_declined_invitation(bot, slack, storage):
    await invite(bot, slack, f"<@{ADMIN}> hubspot")
    invitation_id = dm_button(invitation_dm(slack), "invite_decline")["value"]
    answer = await click(bot, slack, "invite_decline", invitation_id, ADMIN)
    assert answer["replace_original"] is True
    assert answer["text"] == ib.DECLINED_THANKS.format(inviter=INVITER)
    assert (await storage.invitations.get(invitation_id)).status == "declined"
    told = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == INVITER]
    assert "not the one to connect HubSpot" in told[-1].args["text"]
    # the Connect button of a declined invitation no longer works
    again = await click(bot, slack, "invite_connect", invitation_id, ADMIN)
    assert again["text"] == ib.CLOSED


async def test_expired_invitation_tells_inviter_once(bot, slack, storage, clock, hub_settings):
    from bot.container import build_services

    await invite(bot, slack, f"<@{ADMIN}> hubspot")
    invitation_id = dm_button(invitation_dm(slack), "invite_connect")["value"]
    clock.advance(days=7, seconds=1)
    late = await click(bot, slack, "invite_connect", invitation_id, ADMIN)
    assert late["text"] == ib.EXPIRED.format(inviter=INVITER)
    from storage.store import Storage

    replica = Storage(storage.db, storage.encryptor, replica_id="another-replica", clock=clock)
    async with httpx.AsyncClient() as http:
        services = build_services(bot.settings, replica, clock, http)
        assert await services.invites.expire_overdue() == 1
        assert await services.invites.expire_overdue() == 0  # told once
    told = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == INVITER]
    assert [c.args["text"] for c in told] == [
        ib.EXPIRED_INVITER.format(invitee=ADMIN, provider="HubSpot", key="hubspot")
    ]
    assert (await storage.invitations.get(invitation_id)).status == "expired"


async def test_only_the_invitee_can_use_the_connect_button(bot, slack, storage):
    await invite(bot, slack, f"<@{ADMIN}> hubspot")
    invitation_id = dm_button(invitation_dm(slack), "invite_connect")["value"]
    answer = await click(bot, slack, "invite_connect", invitation_id, OTHER)
    assert answer["text"] == ib.NOT_FOR_YOU.format(user=ADMIN)
    assert "connect_link" not in json.dumps(answer)
    forged = await click(bot, slack, "invite_connect", "0" * 24, ADMIN)
    assert forged["text"] == ib.CLOSED


async def test_connect_after_the_provider_got_connected(bot, slack, hubspot, storage):
    await invite(bot, slack, f"<@{ADMIN}> hubspot")
    invitation_id = dm_button(invitation_dm(slack), "invite_connect")["value"]
    card = post(bot, sr.command("connect", user_id="U0001", response_url=slack.response_url())).json()
    Browser(bot, hubspot).connect(buttons(card)["connect_link:hubspot"]["url"])
    answer = await click(bot, slack, "invite_connect", invitation_id, ADMIN)
    assert answer["text"] == ib.NOW_CONNECTED.format(provider="HubSpot", user="U0001")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", ib.USAGE.format(max=5, example=FIRST.key)),
        ("dana", ib.NOT_MENTIONS.format(words="dana", max=5, example=FIRST.key)),
        ("@dana hubspot", ib.NOT_MENTIONS.format(words="@dana", max=5, example=FIRST.key)),
        (" ".join(f"<@U10{n}>" for n in range(6)), ib.TOO_MANY.format(max=5, example=FIRST.key)),
        ("<@UBOT|bot>", ib.IS_BOT.format(user="UBOT", provider=FIRST.display_name)),
        ("<@UGONE>", ib.DEACTIVATED.format(user="UGONE")),
        ("<@UGUEST>", ib.GUEST.format(user="UGUEST", provider=FIRST.display_name)),
        ("<@UNOBODY>", ib.NOT_FOUND.format(user="UNOBODY")),
        (f"<@{INVITER}>", ib.YOURSELF.format(key=FIRST.key, provider=FIRST.display_name)),
    ],
)
async def test_checks_before_anything_is_sent(bot, slack, storage, text, expected):
    reply = await invite(bot, slack, text)
    assert reply["text"] == expected
    assert slack.calls_to("conversations.open") == []
    assert await storage.invitations.open_in_team("T0001") == []


async def test_already_connected_says_by_whom_and_sends_nothing(bot, slack, hubspot):
    card = post(bot, sr.command("connect", user_id="U0001", response_url=slack.response_url())).json()
    Browser(bot, hubspot).connect(buttons(card)["connect_link:hubspot"]["url"])
    reply = await invite(bot, slack, f"<@{ADMIN}> hubspot")
    assert reply["text"] == ib.ALREADY_CONNECTED.format(
        provider="HubSpot", account="portal101.example.com", user="U0001"
    )
    assert slack.calls_to("conversations.open") == []


async def test_an_open_invitation_is_offered_as_a_reminder(bot, slack, storage):
    await invite(bot, slack, f"<@{ADMIN}> hubspot")
    again = await invite(bot, slack, f"<@{ADMIN}> hubspot")
    assert "still open" in again["text"]
    remind = buttons(again)["invite_remind"]
    assert len(await storage.invitations.open_in_team("T0001")) == 1  # no second invitation
    answer = await click(bot, slack, "invite_remind", remind["value"], INVITER)
    assert answer["text"] == ib.REMINDED.format(user=ADMIN, provider="HubSpot")
    reminder = slack.calls_to("chat.postMessage")[-1]
    assert reminder.args["thread_ts"] and reminder.args["channel"] == "D" + ADMIN[1:]
    again = await click(bot, slack, "invite_remind", remind["value"], INVITER)
    assert again["text"] == ib.REMINDED_ALREADY.format(user=ADMIN, provider="HubSpot")
    assert slack.calls_to("chat.postMessage")[-1] is reminder  # no second reminder the same day
    other = await click(bot, slack, "invite_remind", remind["value"], OTHER)
    assert other["text"] == ib.CLOSED  # only the inviter can remind


async def test_daily_limit(bot, slack, storage):
    for user in ("U0101", "U0102", "U0103", "U0104"):
        slack.add_user(user)
    reply = await invite(bot, slack, "<@U0101> <@U0102> <@U0103> <@U0104>")
    assert reply["text"].count("Invited") == 3
    assert ib.LIMIT.format(count=3, limit=3) in reply["text"]
    assert len(await storage.invitations.open_in_team("T0001")) == 3


@pytest.mark.parametrize("error", ["cannot_dm_bot", "user_not_found", "user_disabled", "missing_scope"])
async def test_slack_refusing_the_dm_records_nothing(bot, slack, storage, error):
    slack.fail_next("conversations.open", error)
    reply = await invite(bot, slack, f"<@{ADMIN}> hubspot")
    assert reply["text"] == ib.DM_FAILED.format(user=ADMIN, reason=ib.DM_ERRORS[error])
    assert await storage.invitations.open_in_team("T0001") == []


async def test_slack_rate_limiting_the_dm_records_nothing(bot, slack, storage):
    slack.rate_limit_next("chat.postMessage", retry_after=0, count=5)
    reply = await invite(bot, slack, f"<@{ADMIN}> hubspot")
    assert reply["text"] == ib.DM_FAILED.format(user=ADMIN, reason=ib.DM_ERRORS["ratelimited"])
    assert await storage.invitations.open_in_team("T0001") == []


async def test_status_lists_open_invitations_and_they_survive_a_restart(
    bot, slack, serve, hub_settings, clock
):
    await invite(bot, slack, f"<@{ADMIN}> hubspot")
    bot.stop()
    restarted = serve(hub_settings, clock=clock)
    card = post(restarted, sr.command("status", user_id=OTHER)).json()
    assert f"<@{INVITER}> invited <@{ADMIN}> to connect HubSpot" in json.dumps(card["blocks"])
