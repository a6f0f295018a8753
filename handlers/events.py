"""Events API listeners: uninstall/revocation clean-up and the App Home tab."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from core.logs import annotate

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

log = logging.getLogger("quolum.handlers.events")


def register(app: AsyncApp, services: Services) -> None:
    async def deduplicate(body: dict, next, logger) -> BoltResponse | None:
        # Slack retries events it thinks we missed; handle each event id once, on any replica.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await services.events.first_delivery(event_id, body.get("team_id")):
            annotate(outcome="duplicate_event")
            return BoltResponse(status=200, body="")
        return await next()

    app.middleware(deduplicate)

    @app.event("app_uninstalled")
    async def app_uninstalled(context) -> None:
        annotate(event="app_uninstalled")
        await services.connections.forget_workspace(context.enterprise_id, context.team_id)

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict, context) -> None:
        annotate(event="tokens_revoked")
        if event.get("tokens", {}).get("bot"):
            await services.connections.forget_workspace(context.enterprise_id, context.team_id)

    @app.event("app_home_opened")
    async def app_home_opened(event: dict, client, context) -> None:
        if event.get("tab") != "home":
            return
        annotate(event="app_home_opened")
        await services.home.publish(client, context.team_id, event["user"])
