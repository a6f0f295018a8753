"""Tokens a provider issued to an OAuth callback that the callback will not keep: revoked at once,
and those a dead callback left behind revoked by housekeeping.

The callback records the tokens (encrypted, `storage.issued_tokens`) right after the code exchange and
the connection's save deletes that record in its own transaction; a record still there after
`LOST_AFTER` belongs to a callback that died in between (a kill -9), and its tokens are live at the
provider with nobody holding them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from providers.http import ProviderError
from providers.registry import Bound
from storage.issued_tokens import IssuedTokenStore

log = logging.getLogger("quolum.connections")

LOST_AFTER = timedelta(minutes=5)  # a callback takes seconds: tokens still unstored after this were lost


class IssuedTokens:
    def __init__(self, store: IssuedTokenStore, providers: Bound) -> None:
        self.store = store
        self.providers = providers

    async def give_back(self, provider: str, credentials: dict, issued: int | None) -> bool:
        """Revoke tokens issued to us that we will not keep; forget their record once revoked (if
        revoking fails, housekeeping tries again). True when the provider took them back."""
        # the refresh token; a grant's token without one (a Slack user token) is revoked itself
        token = credentials.get("refresh_token") or (
            credentials.get("access_token") if self.providers.registry[provider].oauth is None else None
        )
        try:
            if token:
                await self.providers(provider).revoke(token)
        except ProviderError as error:
            name = self.providers.registry[provider].display_name
            log.warning("revoking unused %s tokens failed; housekeeping retries: %s", name, error)
            return False
        if issued is not None:
            try:
                await self.store.forget(issued)
            except Exception as error:  # noqa: BLE001 - revoked already: a later run just revokes again
                log.warning("could not forget revoked tokens %s: %s", issued, type(error).__name__)
        return True

    async def revoke_lost(self, lost_after: timedelta = LOST_AFTER) -> int:
        """Housekeeping: revoke tokens that an OAuth callback recorded and never stored (it died
        between the exchange and the store). Returns how many were revoked."""
        revoked = 0
        for issued in await self.store.lost(lost_after):
            spec = self.providers.registry.get(issued.provider)
            if spec is None or spec.consent is None:  # nothing to revoke (no longer installed)
                await self.store.forget(issued.id)
                continue
            if await self.give_back(issued.provider, issued.credentials, issued.id):
                revoked += 1
        if revoked:
            log.info("revoked %d token sets an interrupted connection had left behind", revoked)
        return revoked
