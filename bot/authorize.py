"""Authorising Slack requests from our installation store, cached per workspace, without auth.test.

Bolt's AsyncInstallationStoreAuthorize reads the store on every request and
calls auth.test once per token per process (and once per concurrent request
while the first call is in flight). Everything auth.test would tell us (bot
id, bot user id, team) was stored when the workspace installed the app, so we
build the AuthorizeResult from the installation and keep it for a minute.
Installations with rotating tokens go through Bolt's authoriser, which
refreshes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize

from storage.installations import EncryptedInstallationStore

TTL_SECONDS = 60.0


class CachedInstallationAuthorize(AsyncInstallationStoreAuthorize):
    def __init__(
        self,
        *,
        installation_store: EncryptedInstallationStore,
        clock: Callable[[], float] = time.monotonic,
        **kwargs,
    ) -> None:
        super().__init__(installation_store=installation_store, bot_only=True, cache_enabled=True, **kwargs)
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, AuthorizeResult]] = {}
        installation_store.on_change.append(self.forget)

    def forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        for key in [
            k for k in self._cache if k[0] == (enterprise_id or "") and (not team_id or k[1] == team_id)
        ]:
            del self._cache[key]

    async def __call__(self, *, context, enterprise_id, team_id, user_id, **kwargs) -> AuthorizeResult | None:
        # Bolt takes these from the payload before anything acknowledged it: only strings are ids
        enterprise_id, team_id = _id(enterprise_id), _id(team_id)
        if team_id is None and enterprise_id is None:
            return None
        key = (enterprise_id or "", team_id or "")
        cached = self._cache.get(key)
        if cached is not None and self.clock() - cached[0] < TTL_SECONDS:
            return cached[1]
        bot = await self.installation_store.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=context.is_enterprise_install
        )
        if bot is None:
            return None
        if bot.bot_refresh_token:  # token rotation: let Bolt refresh it when due
            return await super().__call__(
                context=context, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, **kwargs
            )
        result = AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team=bot.team_name,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )
        self._cache[key] = (self.clock(), result)
        return result


def _id(value) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 32 else None
