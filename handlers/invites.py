"""`/quolum invite @someone [provider]` and the invitation DM's buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from core.logs import annotate
from handlers import credentials
from handlers.commands import PROVIDERS, CommandRequest, command
from messages import blocks
from messages import invite_blocks as ib

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration


@command(
    "invite",
    f"invite @someone [{PROVIDERS}]",
    "ask a provider's admin to connect it",
    reply_in_ack=False,
)
async def invite(request: CommandRequest) -> dict:
    return await request.services.invites.invite(
        request.client, request.team_id, request.user_id, request.args
    )


def register(app: AsyncApp, services: Services) -> None:
    invites = services.invites

    def who(body: dict) -> tuple[str, str, str]:
        action = body["actions"][0]
        annotate(team=body["team"]["id"], action=action["action_id"])
        return body["team"]["id"], body["user"]["id"], action.get("value", "")

    async def say_privately(respond, message: dict) -> None:
        await respond(response_type="ephemeral", replace_original=False, **message)

    @app.action(ib.INVITE_CONNECT)
    async def connect(ack, body, respond, client) -> None:
        await ack()
        _, user, invitation_id = who(body)
        invitation, problem = await invites.open_check(invitation_id, user)
        if problem:
            await say_privately(respond, blocks.message(problem))
            return
        spec = services.registry.find(invitation.provider)
        if spec is not None and spec.form is not None:  # their modal, with the invitation as the permission
            await credentials.open_modal(
                client,
                body["trigger_id"],
                spec,
                team_id=invitation.team_id,
                user_id=user,
                response_url=body.get("response_url"),
                invitation_id=invitation.id,
            )
            return
        await say_privately(respond, await invites.connect_link(invitation, body.get("response_url")))

    @app.action(ib.INVITE_DECLINE)
    async def decline(ack, body, respond, client) -> None:
        await ack()
        _, user, invitation_id = who(body)
        declined, message = await invites.decline(invitation_id, user)
        if declined:  # the DM itself now says thank you, without buttons
            await respond(replace_original=True, **message)
        else:
            await say_privately(respond, message)

    @app.action(ib.INVITE_REMIND)
    async def remind(ack, body, respond, client) -> None:
        await ack()
        _, user, invitation_id = who(body)
        await say_privately(respond, blocks.message(await invites.remind(client, invitation_id, user)))
