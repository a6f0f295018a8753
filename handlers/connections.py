"""`/quolum connect|status|disconnect|admins` and the Connections card's buttons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from core.logs import annotate
from handlers import commands
from handlers.commands import ADMINS_ONLY, PROVIDERS, CommandRequest, command
from messages import blocks
from messages.cards import CONNECT_LINK, DISCONNECT_ACTION
from providers.registry import Registry

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
UNKNOWN_PROVIDER = "I don't know a provider called `{name}`. I can connect: {known}."
ADMINS_USAGE = (
    "Usage: `/quolum admins add @someone`, `/quolum admins remove @someone` or `/quolum admins list`."
)
DISCONNECT_USAGE = "Usage: `/quolum disconnect {known}`"
GRANTED = "<@{user}> is now a Quolum admin: they can connect and disconnect accounts."
ALREADY = "<@{user}> is a Quolum admin already."
REVOKED = "<@{user}> is no longer a Quolum admin."
NOT_ADMIN = "<@{user}> was not a Quolum admin."
ADMIN_LIST = "Quolum admins (besides Slack's owners and admins): {users}."
NO_ADMINS = "No members have been made Quolum admins; Slack's owners and admins can connect accounts."


def known(registry: Registry) -> str:
    return ", ".join(f"`{key}`" for key in registry)


def provider_arg(args: str, registry: Registry):
    """(spec or None, error message or None) for an optional provider argument."""
    name = args.split()[0] if args.split() else ""
    if not name:
        return None, None
    spec = registry.find(name)
    return (
        (spec, None)
        if spec
        else (None, UNKNOWN_PROVIDER.format(name=blocks.echo(name), known=known(registry)))
    )


@command("connect", f"connect [{PROVIDERS}]", "connect a SaaS account (admins)")
async def connect(request: CommandRequest) -> dict:
    spec, error = provider_arg(request.args, request.services.registry)
    if error:
        return blocks.message(error)
    return await _card(request, only=spec)


@command("status", "status", "what is connected, by whom, and open invitations", aliases=("list",))
async def status(request: CommandRequest) -> dict:
    card = await _card(request)
    card["blocks"] += await request.services.invites.open_lines(request.team_id)
    return card


async def _card(request: CommandRequest, *, only=None, notice: str | None = None) -> dict:
    service = request.services.connections
    can = await service.can_connect(request.client, request.workspace, request.user_id)
    return await service.card(
        team_id=request.team_id,
        user_id=request.user_id,
        can_connect=can,
        response_url=request.response_url,
        only=only,
        notice=notice,
    )


def names_a_provider(args: str, registry: Registry) -> bool:
    spec, _ = provider_arg(args, registry)
    return spec is not None


@command(
    "disconnect",
    f"disconnect {PROVIDERS}",
    "disconnect an account and delete its credentials (admins)",
    reply_in_ack=False,  # revoking at the provider is a network call: ack first, answer after
    admins_only=names_a_provider,
    what="disconnect accounts",
)
async def disconnect(request: CommandRequest) -> dict:
    registry = request.services.registry
    spec, error = provider_arg(request.args, registry)
    if error or spec is None:
        return blocks.message(error or DISCONNECT_USAGE.format(known=registry.usage()))
    note = await request.services.connections.disconnect(request.team_id, spec, request.user_id)
    return await _card(request, notice=note)


def admins_change(args: str) -> tuple[str | None, list[str]]:
    """("add" | "remove", the members mentioned) for a change of the Quolum admins, else (None, [])."""
    words = args.split()
    action = words[0].lower() if words else "list"
    targets = list(dict.fromkeys(MENTION.findall(args)))
    return (action, targets) if action in ("add", "remove") and targets else (None, [])


@command(
    "admins",
    "admins add|remove|list @someone",
    "choose who may connect accounts (Slack admins)",
    admins_only=lambda args, registry: admins_change(args)[0] is not None,
    what="change who is a Quolum admin",
    slack_admins_only=True,
)
async def admins(request: CommandRequest) -> dict:
    words = request.args.split()
    service = request.services.admins
    if not words or words[0].lower() == "list":
        granted = await service.granted(request.team_id)
        users = ", ".join(f"<@{user}>" for user in granted)
        return blocks.message(ADMIN_LIST.format(users=users) if granted else NO_ADMINS)
    action, targets = admins_change(request.args)
    if action is None:
        return blocks.message(ADMINS_USAGE)
    lines = []
    for user in targets:
        if action == "add":
            granted = await service.grant(request.team_id, user, request.user_id)
            lines.append((GRANTED if granted else ALREADY).format(user=user))
        else:
            revoked = await service.revoke(request.team_id, user)
            lines.append((REVOKED if revoked else NOT_ADMIN).format(user=user))
    return blocks.message("\n".join(lines))


def register(app: AsyncApp, services: Services) -> None:
    @app.action(re.compile(f"^{CONNECT_LINK}:"))
    async def connect_link(ack, body) -> None:
        # A link button opens the browser by itself; Slack still sends the click, which we acknowledge.
        await ack()
        annotate(team=(body.get("team") or {}).get("id"), action=CONNECT_LINK)

    @app.action(re.compile(f"^{DISCONNECT_ACTION}:"))
    async def disconnect_button(ack, body, action, respond, client) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=DISCONNECT_ACTION)
        spec = services.registry.find(action.get("value", ""))
        service = services.connections
        if spec is None:
            return
        if not await commands.clicked_by_admin(service, client, body):
            if not body.get("response_url"):  # a click in App Home: draw the tab again, without the button
                await services.home.publish(client, team_id, user_id)
                return
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=ADMINS_ONLY.format(what="disconnect accounts"),
            )
            return
        note = await service.disconnect(team_id, spec, user_id)
        if not body.get("response_url"):  # clicked in App Home: no card to update, the tab was republished
            return
        card = await service.card(
            team_id=team_id,
            user_id=user_id,
            can_connect=True,
            response_url=body.get("response_url"),
            notice=note,
        )
        await respond(replace_original=True, **card)
