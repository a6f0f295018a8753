"""App Home: gather a person's view of the workspace and publish it with `views.publish`.

Published when someone opens the tab (`app_home_opened`) and republished, for the people concerned
and for everyone who opened the tab in the last week (on this process), whenever one of its parts
changes: a connection (connected, disconnected), an invitation (opened, accepted, expired), a digest
subscription (added, changed, removed, paused), an incident (opened, resolved), and after a digest is
posted (the last digest line; for the viewers only, so a digest fan-out publishes no tab nobody has
open). The services say so through their hooks, wired in bot/container.py;
none of them imports this module.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from messages.app_home import (
    HomeData,
    contract_line,
    home_view,
    incident_line,
    last_digest_line,
    subscription_line,
)
from messages.digest import money
from providers.registry import INSTALLED, Registry
from storage.store import Storage

if TYPE_CHECKING:
    from services.connections import ConnectionsService
    from services.slack_clients import SlackClients

log = logging.getLogger("quolum.app_home")

VIEWER_TTL = 7 * 24 * 3600  # republish for people who opened the tab within a week
MAX_VIEWERS = 500  # per process: a bound on what a change republishes


class AppHomeService:
    def __init__(
        self,
        *,
        storage: Storage,
        connections: ConnectionsService,
        slack_clients: SlackClients,
        registry: Registry = INSTALLED,
    ) -> None:
        self.storage = storage
        self.connections = connections
        self.slack_clients = slack_clients
        self.registry = registry
        # (team, user) -> monotonic time the tab was last opened. Per process: another replica's viewers
        # get a fresh tab when they next open it (Slack asks for it every time).
        self.seat_lines = None  # async (team_id) -> list[str] for admins (services/reclaims.py), or None
        self._viewers: OrderedDict[tuple[str, str], float] = OrderedDict()

    # --- data the other features provide -------------------------------------------------------
    async def subscription_lines(self, team_id: str) -> list[str]:
        """Digest subscriptions as mrkdwn lines ("<#C123> · weekly · next …")."""
        return [subscription_line(sub) for sub in await self.storage.digests.for_team(team_id)]

    async def incident_lines(self, team_id: str) -> list[str]:
        """Open incidents (lost connections) as mrkdwn lines."""
        open_ = await self.storage.incidents.open_in_team(team_id)
        return [
            incident_line(incident, self.registry[key].display_name if key in self.registry else key)
            for key, incident in sorted(open_.items())
        ]

    async def contract_lines(self, team_id: str) -> list[str]:
        """The workspace's contracts, the nearest notice deadline first (those without dates last)."""
        stored = await self.storage.contracts.for_team(team_id)
        locale = (await self.storage.contracts.settings(team_id)).locale
        contracts = sorted(
            (s.contract for s in stored),
            key=lambda c: (c.notice_deadline() is None, c.notice_deadline() or date.min, c.provider),
        )
        names = self.registry.names()
        return [
            contract_line(
                c,
                names.get(c.provider, c.provider),
                money(c.price_minor, c.currency, locale)
                if c.price_minor is not None and c.currency
                else None,
            )
            for c in contracts
        ]

    async def last_digest_headline(self, team_id: str) -> str | None:
        """Where and when the workspace's last digest was posted (its figures are not stored, so not its
        headline: the channel has the message itself)."""
        store = self.storage.digests
        sent = [sub for sub in await store.for_team(team_id) if sub.last_sent_at]
        sent += [on_demand] if (on_demand := await store.last_on_demand(team_id)) else []
        return last_digest_line(max(sent, key=lambda sub: sub.last_sent_at)) if sent else None

    # --- the view -------------------------------------------------------------------------------
    async def view(self, client: AsyncWebClient, team_id: str, user_id: str) -> dict:
        connections = self.connections
        can_connect = await connections.can_connect(client, await connections.workspace(team_id), user_id)
        rows = await connections.rows(
            team_id=team_id, user_id=user_id, can_connect=can_connect, response_url=None
        )
        data = HomeData(
            rows=rows,
            can_connect=can_connect,
            invitations=await self.storage.invitations.open_in_team(team_id),
            provider_names=self.registry.names(),
            subscriptions=await self.subscription_lines(team_id),
            incidents=await self.incident_lines(team_id),
            last_digest=await self.last_digest_headline(team_id),
            seats=await self.seat_lines(team_id) if can_connect and self.seat_lines else None,
            contracts=await self.contract_lines(team_id) if can_connect else None,
        )
        return home_view(data)

    async def publish(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        """Publish the tab for one person; False (logged) when Slack refused."""
        self._seen(team_id, user_id)
        try:
            await client.views_publish(user_id=user_id, view=await self.view(client, team_id, user_id))
            return True
        except SlackApiError as error:
            log.info("views.publish for %s failed: %s", user_id, error.response.get("error"))
            return False

    # --- refreshing on change ---------------------------------------------------------------------
    def _seen(self, team_id: str, user_id: str) -> None:
        self._viewers[(team_id, user_id)] = time.monotonic()
        self._viewers.move_to_end((team_id, user_id))
        while len(self._viewers) > MAX_VIEWERS:
            self._viewers.popitem(last=False)

    def viewers(self, team_id: str) -> list[str]:
        cutoff = time.monotonic() - VIEWER_TTL
        return [user for (team, user), seen in self._viewers.items() if team == team_id and seen >= cutoff]

    async def refresh(self, team_id: str, people: Iterable[str] = ()) -> int:
        """Republish for `people` and for everyone who has the tab open recently; the count published."""
        targets = list(dict.fromkeys([*people, *self.viewers(team_id)]))
        client = await self.slack_clients(team_id) if targets else None
        if client is None:
            return 0
        published = 0
        for user_id in targets:
            published += await self.publish(client, team_id, user_id)
        return published

    async def on_connection_changed(
        self, team_id: str, provider: str, user_id: str, invitation_id: str | None = None
    ) -> None:
        await self.refresh(team_id, [user_id])

    async def on_changed(self, team_id: str, people: Iterable[str] = ()) -> None:
        """The invitations', digests' and alerts' hook: something the tab lists changed."""
        await self.refresh(team_id, people)
