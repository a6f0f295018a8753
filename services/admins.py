"""Quolum admins: the members Slack admins grant the right to connect accounts (`/quolum admins`).

Slack's own owners and admins need no grant (`ConnectionsService.can_connect` asks both); this service
only keeps the list of grants, so the handler never reaches the store itself."""

from __future__ import annotations

from storage.connections import AdminStore


class AdminsService:
    def __init__(self, store: AdminStore) -> None:
        self.store = store

    async def granted(self, team_id: str) -> list[str]:
        """The members made Quolum admins, oldest grant first."""
        return [user for user, _ in await self.store.list(team_id)]

    async def grant(self, team_id: str, user_id: str, granted_by: str) -> bool:
        """False when the member was a Quolum admin already."""
        return await self.store.grant(team_id, user_id, granted_by)

    async def revoke(self, team_id: str, user_id: str) -> bool:
        """False when the member was not a Quolum admin."""
        return await self.store.revoke(team_id, user_id)
