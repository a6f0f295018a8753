"""`/quolum alerts #channel|off` and the alert's Reconnect button."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from core.logs import annotate
from handlers import commands, credentials
from handlers.commands import CommandRequest, command
from messages import alerts as am
from messages import blocks
from services import digest_subscriptions as digests

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$|^([CG][A-Z0-9]{6,})$")
USAGE = (
    "Usage: `/quolum alerts #channel` (pick the channel from the list Slack offers), or `/quolum alerts off`."
)
TO_CHANNEL = "Connection alerts for this workspace go to <#{channel}>."
DEFAULT = (
    "Connection alerts go by DM to whoever connected each account; if that person has left or cannot be "
    "reached, to the Quolum admins. `/quolum alerts #channel` sends them to a channel instead."
)
REFUSED = {  # why the bot could not post there (digests.check_channel), said now rather than at the first alert
    digests.CANNOT_SEE: (
        "I can't see <#{channel}>. If it is private, invite me first with `/invite @Quolum` in that "
        "channel, then run `/quolum alerts` again."
    ),
    digests.PRIVATE_NOT_MEMBER: (
        "<#{channel}> is private and I am not in it: invite me with `/invite @Quolum` there first."
    ),
    digests.ARCHIVED: "<#{channel}> is archived: choose another channel.",
    digests.NOT_A_CHANNEL: "Alerts go to a channel, not a direct message: pick one from the list Slack offers.",
}
SET = "From now on, connection alerts go to <#{channel}> (alerts already sent stay where they are)."
OFF = "Connection alerts go back to the default: " + DEFAULT


def route_change(args: str) -> str | None:
    """What `/quolum alerts <args>` asks for: "off", a channel id, or None (a look, or a usage mistake)."""
    words = args.split()
    if words and words[0].lower() == "off":
        return "off"
    match = CHANNEL.match(words[0]) if len(words) == 1 else None
    return (match.group(1) or match.group(2)) if match else None


@command(
    "alerts",
    "alerts [#channel|off]",
    "where connection alerts go (admins change it)",
    reply_in_ack=False,  # checking the person's role asks Slack
    admins_only=lambda args, registry: route_change(args) is not None,
    what="choose where alerts go",
)
async def alerts(request: CommandRequest) -> dict:
    service = request.services.alerts
    if not request.args.split():
        channel = await service.channel(request.team_id)
        return blocks.message(TO_CHANNEL.format(channel=channel) if channel else DEFAULT)
    change = route_change(request.args)
    if change is None:
        return blocks.message(USAGE)
    if change == "off":
        await service.send_by_default(request.team_id)
        return blocks.message(OFF)
    why = await digests.check_channel(request.client, change)
    if why:
        return blocks.message(REFUSED[why].format(channel=change))
    await service.send_to(request.team_id, change, request.user_id)
    return blocks.message(SET.format(channel=change))


def register(app: AsyncApp, services: Services) -> None:
    @app.action(am.ALERT_RECONNECT_ACTION)
    async def reconnect(ack, body, respond, client) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=am.ALERT_RECONNECT_ACTION)
        value = body["actions"][0].get("value", "")
        incident = await services.alerts.incident(int(value)) if value.isdigit() else None
        spec = services.registry.find(incident.provider) if incident else None
        if incident is None or spec is None or incident.team_id != team_id:
            return
        if not incident.open:
            await _privately(respond, am.ALREADY_RESOLVED.format(provider=spec.display_name))
            return
        if not await commands.clicked_by_admin(services.connections, client, body):
            await _privately(respond, am.NOT_ALLOWED.format(provider=spec.display_name, key=spec.key))
            return
        if spec.form is not None:  # credential-form providers: their modal
            await credentials.open_modal(
                client, body["trigger_id"], spec, team_id=team_id, user_id=user_id, response_url=None
            )
            return
        # A fresh single-use link bound to this person; no response_url: the alert is not the card.
        url = await services.connections.connect_url(team_id, user_id, spec, None, incident=incident.id)
        await _privately(respond, am.RECONNECT_LINK.format(provider=spec.display_name, url=url))


async def _privately(respond, text: str) -> None:
    await respond(response_type="ephemeral", replace_original=False, text=text)
