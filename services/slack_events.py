"""Events API deliveries, each handled once: Slack retries an event it thinks we missed, and any replica
may receive the retry, so the database's unique key on the event id decides (storage.claims)."""

from __future__ import annotations

from storage.claims import Claims


class SlackEvents:
    def __init__(self, claims: Claims) -> None:
        self.claims = claims

    async def first_delivery(self, event_id: str, team_id: str | None) -> bool:
        """True the first time this event id arrives, on whichever replica; False for Slack's retries."""
        return await self.claims.first_delivery(event_id, team_id)
