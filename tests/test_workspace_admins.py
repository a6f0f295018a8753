"""Slack admins of *this* workspace only (issue 21.3), through the real server and the Slack stand-in.

`users.info` answers for people of other workspaces too, with the roles they hold at home. An admin of
another workspace — a plain neighbour, a member of another org reaching an org-wide install, a Slack
Connect guest in a shared channel — asks for everything an admin may do and is refused with a sentence,
and nothing changes. The decision itself is services/slack_roles.py (its table test is
tests/services/test_slack_roles.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from handlers import connections as conn_handlers
from handlers.commands import ADMINS_ONLY, SLACK_ADMINS_ONLY
from sandbox import sendgrid_modal as modal
from sandbox import slack_requests as sr
from tests.conftest import connect_hubspot, install
from tests.services.test_connections import answer_of
from tests.test_web import post, reply_text

HOME = "T0001"
SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]


@dataclass(frozen=True)
class Shape:
    name: str
    team_id: str  # the workspace the request is for
    enterprise_id: str | None
    org_wide: bool
    intruder: str  # an admin somewhere else
    intruder_team: str  # the intruder's own workspace (what users.info says)


PLAIN = Shape("plain workspace", HOME, None, False, "UOTHER01", "T0002")
ORG_WIDE = Shape("org-wide install", "T0005", "E0001", True, "UOTHERORG", "T0006")
SLACK_CONNECT = Shape("Slack Connect guest", HOME, None, False, "UGUEST01", "T0009")
SHAPES = [PLAIN, ORG_WIDE, SLACK_CONNECT]


async def set_up(shape: Shape, slack, storage) -> None:
    if shape.org_wide:
        ws = slack.add_workspace(shape.team_id, "Org Workspace", enterprise_id=shape.enterprise_id)
        await storage.installations.async_save(
            Installation(
                app_id="A0QUOLUM",
                enterprise_id=shape.enterprise_id,
                enterprise_name="Acme Org",
                team_id=None,
                is_enterprise_install=True,
                bot_token=ws.bot_token,
                bot_id=ws.bot_id,
                bot_user_id=ws.bot_user_id,
                bot_scopes="commands,chat:write,im:write,users:read,channels:read,groups:read",
                user_id="UINSTALLER",
            )
        )
        # an admin and owner of another org (E0002), as users.info shows them
        slack.add_workspace(shape.intruder_team, "Other Org", enterprise_id="E0002")
        slack.add_user(shape.intruder, shape.intruder_team, is_admin=True, is_owner=True, org_admin=True)
    else:
        await install(storage, slack)
        slack.add_user(shape.intruder, shape.intruder_team, is_admin=True, is_owner=True)
    slack.add_channel("C" + shape.team_id[1:] + "9", "ops", team_id=shape.team_id, member=True)


def command(shape: Shape, text: str, user: str, hook: str) -> str:
    fields = sr.command_fields(text, team_id=shape.team_id, user_id=user, response_url=hook)
    if shape.enterprise_id:
        fields |= {"enterprise_id": shape.enterprise_id, "enterprise_name": "Acme Org"}
    fields["is_enterprise_install"] = "true" if shape.org_wide else "false"
    return urlencode(fields)


def click(shape: Shape, action_id: str, value: str, user: str, hook: str) -> str:
    payload = json.loads(
        parse_qs(sr.action(action_id, value=value, team_id=shape.team_id, user_id=user, response_url=hook))[
            "payload"
        ][0]
    )
    payload["user"]["team_id"] = shape.intruder_team if user == shape.intruder else shape.team_id
    if shape.enterprise_id:
        payload["enterprise"] = {"id": shape.enterprise_id, "name": "Acme Org"}
    payload["is_enterprise_install"] = shape.org_wide
    return urlencode({"payload": json.dumps(payload)})


async def answer(bot, slack, body: str, hook: str) -> str:
    ack = post(bot, body, sr.signed_headers(body))
    assert ack.status_code == 200, ack.text
    if ack.content:
        return reply_text(ack)
    found = await answer_of(slack, hook)
    return found.get("text") or ""


def requests(shape: Shape) -> list[tuple[str, str]]:
    channel = "C" + shape.team_id[1:] + "9"
    return [
        (f"admins add <@{shape.intruder}>", SLACK_ADMINS_ONLY.format(what="change who is a Quolum admin")),
        ("disconnect hubspot", ADMINS_ONLY.format(what="disconnect accounts")),
        (
            f"digest subscribe <#{channel}|ops>",
            ADMINS_ONLY.format(what="subscribe channels to digests"),
        ),
        ("price hubspot 10", ADMINS_ONLY.format(what="set seat prices")),
        (f"alerts <#{channel}|ops>", ADMINS_ONLY.format(what="choose where alerts go")),
    ]


async def state(storage, team_id: str) -> tuple:
    connection = await storage.connections.get(team_id, "hubspot")
    return (
        await storage.admins.list(team_id),
        connection.status if connection else None,
        [s.channel_id for s in await storage.digests.for_team(team_id)],
        await storage.digests.prices(team_id),
        await storage.alert_routes.get(team_id),
    )


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
async def test_an_admin_of_another_workspace_is_refused_and_nothing_changes(
    serve, hub_settings, storage, slack, hubspot, shape
):
    await set_up(shape, slack, storage)
    await connect_hubspot(storage, hubspot, 101, SCOPES, team_id=shape.team_id)
    bot = serve(hub_settings)
    before = await state(storage, shape.team_id)
    for text, refusal in requests(shape):
        hook = slack.response_url()
        said = await answer(bot, slack, command(shape, text, shape.intruder, hook), hook)
        assert said == refusal, (shape.name, text, said)
    hook = slack.response_url()
    said = await answer(
        bot, slack, click(shape, modal.CONNECT_ACTION, "sendgrid", shape.intruder, hook), hook
    )
    assert said == ADMINS_ONLY.format(what="connect accounts")
    assert not slack.calls_to("views.open")  # no SendGrid key modal
    assert await state(storage, shape.team_id) == before


async def test_an_org_admin_from_another_workspace_of_the_org_is_an_admin_org_wide(
    serve, hub_settings, storage, slack, hubspot
):
    """The control: for an org-wide install the org is what must match, not the home workspace."""
    shape = ORG_WIDE
    await set_up(shape, slack, storage)
    slack.add_workspace("T0007", "Sister Workspace", enterprise_id=shape.enterprise_id)
    slack.add_user("UORGADMIN", "T0007", org_admin=True)
    bot = serve(hub_settings)
    hook = slack.response_url()
    said = await answer(bot, slack, command(shape, "admins add <@U0003>", "UORGADMIN", hook), hook)
    assert said == conn_handlers.GRANTED.format(user="U0003")
    assert [user for user, _ in await storage.admins.list(shape.team_id)] == ["U0003"]
