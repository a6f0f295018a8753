"""Wires Slack surfaces to handlers: the `/quolum` command, actions, events."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from core.logs import annotate
from handlers import (
    alerts,
    commands,
    connections,
    contracts,
    credentials,
    digest,
    events,
    invites,
    renewals,
    seats,
    slack_request,
)
from messages import blocks

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

log = logging.getLogger("quolum.handlers")

INTERNAL_ERROR = "Something went wrong on our side and nothing was changed. Please try again in a minute."


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/quolum")
    async def quolum(ack, body, respond, client) -> None:
        text = body.get("text") or ""
        cmd, _ = commands.parse(text)
        annotate(team=body.get("team_id"), command=cmd.name if cmd else "help")
        request = commands.CommandRequest(
            team_id=body.get("team_id", ""),
            enterprise_id=body.get("enterprise_id") or None,
            user_id=body.get("user_id", ""),
            channel_id=body.get("channel_id"),
            args="",
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
            services=services,
            client=client,
            org_wide=slack_request.workspace_of(body).org_wide,
        )
        if cmd is None or cmd.reply_in_ack:
            await ack(**await _safely(commands.run(text, request)))
            return
        await ack()
        if reply := await _safely(commands.run(text, request)):  # {}: the command opened a form instead
            await respond(response_type="ephemeral", **reply)

    events.register(app, services)
    connections.register(app, services)
    invites.register(app, services)
    credentials.register(app, services)
    alerts.register(app, services)
    digest.register(app, services)
    seats.register(app, services)
    contracts.register(app, services)
    renewals.register(app, services)

    @app.error
    async def on_error(error, body, logger) -> None:
        annotate(outcome="error")
        log.exception("listener failed: %s", type(error).__name__)


async def _safely(run) -> dict:
    try:
        _, reply = await run
        return reply
    except Exception:
        annotate(outcome="error")
        log.exception("command failed")
        return blocks.message(INTERNAL_ERROR)
