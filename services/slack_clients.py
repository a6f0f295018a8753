"""The Slack client factory the services are given: `await slack_clients(team_id)` is a workspace's client.

Single-workspace mode uses the configured bot token; multi-workspace mode the workspace's stored
(encrypted) installation. None when the workspace has no installation (uninstalled meanwhile).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from core.config import Settings
from providers.slack import web_client
from services.slack_roles import Workspace
from storage.installations import EncryptedInstallationStore


class SlackClients:
    def __init__(
        self,
        settings: Settings,
        installations: EncryptedInstallationStore,
        *,
        rate_limit_retries: int = 2,
        timeout: float = 15,
    ) -> None:
        self.settings = settings
        self.installations = installations
        self.rate_limit_retries = rate_limit_retries
        self.timeout = timeout  # seconds Slack has to answer one call

    async def __call__(self, team_id: str) -> AsyncWebClient | None:
        token = self.settings.bot_token
        if not token:
            bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
            token = bot.bot_token if bot else None
        if not token:
            return None
        return web_client(
            self.settings, token, rate_limit_retries=self.rate_limit_retries, timeout=self.timeout
        )

    async def workspace(self, team_id: str) -> Workspace:
        """The workspace as its installation says (its Enterprise Grid org, if any)."""
        bot = (
            None
            if self.settings.bot_token
            else await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
        )
        if bot is None:
            return Workspace(team_id)
        return Workspace(team_id, bot.enterprise_id or None, bool(bot.is_enterprise_install))
