"""Access tokens that stay fresh: a pure refresh decision plus one orchestrator.

`should_refresh(connection, now)` decides (`renewable`: a credential form whose bearer expires and whose
provider's `renew` hook obtains another from the stored credentials: it has no refresh token); `CredentialManager.current()` lets
one refresh run per connection — an asyncio lock across the coroutines of this
process, the connection's row lock across replicas — re-reads the row after
taking the lock (another holder may have refreshed it already), stores the new
refresh token when one is returned and keeps the old one otherwise. A refresh
HubSpot refuses for good marks the connection *Needs reconnect*; a transient
failure changes nothing.

A flow, so a service: it joins storage (the row lock, the stored tokens) and a
provider's refresh call, which keeps providers/ and storage/ independent layers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from core.clock import Clock, utcnow
from core.metrics import TOKEN_REFRESHES
from providers.http import NeedsReconnect, ProviderError
from providers.plugin import BEARER, Renewed
from storage.connections import CONNECTED, ConnectionRecord, ConnectionStore

log = logging.getLogger("quolum.services.credentials")

MAX_MARGIN = timedelta(minutes=5)


def refresh_margin(lifetime_seconds: int | None) -> timedelta:
    """Refresh this long before expiry: 5 minutes, or a quarter of a short token's life."""
    if not lifetime_seconds:
        return MAX_MARGIN
    return min(MAX_MARGIN, timedelta(seconds=lifetime_seconds / 4))


def bearer(connection: ConnectionRecord) -> str | None:
    """The token sent as `Authorization: Bearer`: an OAuth access token, or a credential form's."""
    return connection.credentials.get("access_token") or connection.credentials.get(BEARER)


def should_refresh(
    connection: ConnectionRecord, now: datetime, *, renewable: bool = False
) -> tuple[bool, str]:
    if connection.status != CONNECTED:
        return False, "not connected"
    if not connection.credentials.get("refresh_token") and not renewable:
        return False, "no refresh token"
    if not bearer(connection) or connection.expires_at is None:
        return True, "no access token"
    if now >= connection.expires_at:
        return True, "expired"
    if now >= connection.expires_at - refresh_margin(connection.token_lifetime):
        return True, "expires soon"
    return False, "fresh"


# provider -> async refresh(refresh_token) returning an object with .credentials(old) and .expires_in
Refresher = Callable[[str], Awaitable[object]]
# provider -> (error -> reason for "needs reconnect", or None when the failure is transient)
Classifier = Callable[[ProviderError], str | None]
# provider -> async renew(stored credentials) -> Renewed: a credential form's expiring bearer, again
Renewer = Callable[[Mapping], Awaitable[Renewed]]


class CredentialManager:
    def __init__(
        self,
        connections: ConnectionStore,
        refreshers: dict[str, tuple[Refresher, Classifier]],
        clock: Clock = utcnow,
        renewers: dict[str, tuple[Renewer, Classifier]] | None = None,
    ) -> None:
        self.connections = connections
        self.refreshers = refreshers
        self.renewers = renewers or {}
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = {}

    async def current(self, connection_id: int, *, failed_token: str | None = None) -> ConnectionRecord:
        """The connection with a usable access token, refreshing it first when needed.

        `failed_token`: the access token the provider just answered 401 to; forces a refresh unless
        someone else has replaced that token meanwhile."""
        record = await self.connections.by_id(connection_id)
        if record is None:
            raise NeedsReconnect("the connection no longer exists", provider="quolum")
        if not self._needs_refresh(record, failed_token):
            return record
        lock = self._locks.setdefault(connection_id, asyncio.Lock())
        async with lock:
            return await self._refresh_locked(connection_id, failed_token)

    def _needs_refresh(self, record: ConnectionRecord, failed_token: str | None) -> bool:
        if record.status != CONNECTED:
            raise NeedsReconnect(
                record.status_reason or "the connection needs to be reconnected", provider=record.provider
            )
        renewable = self.renewable(record)
        if failed_token is not None and bearer(record) == failed_token:
            return bool(record.credentials.get("refresh_token")) or renewable
        return should_refresh(record, self.clock(), renewable=renewable)[0]

    def renewable(self, record: ConnectionRecord) -> bool:
        """No refresh token, but its provider obtains a new bearer from the stored credentials."""
        return record.provider in self.renewers and not record.credentials.get("refresh_token")

    async def _refresh_locked(self, connection_id: int, failed_token: str | None) -> ConnectionRecord:
        revoked_reason: str | None = None
        async with self.connections.locked(connection_id) as (session, record):
            if record is None:
                raise NeedsReconnect("the connection no longer exists", provider="quolum")
            if not self._needs_refresh(record, failed_token):
                return record  # refreshed by another coroutine or replica while we waited
            renewing = self.renewable(record)
            refresh, classify = (self.renewers if renewing else self.refreshers)[record.provider]
            old_refresh = record.credentials.get("refresh_token")
            try:
                tokens = await refresh(record.credentials if renewing else old_refresh)
            except ProviderError as error:
                revoked_reason = classify(error)
                TOKEN_REFRESHES.labels(
                    record.provider, "failed" if revoked_reason is None else "revoked"
                ).inc()
                if revoked_reason is None:
                    log.warning("refresh of connection %s failed, will retry: %s", connection_id, error)
                    raise
                await self.connections.mark_needs_reconnect(connection_id, revoked_reason, session)
                log.warning("connection %s needs reconnect: %s", connection_id, revoked_reason)
            else:
                TOKEN_REFRESHES.labels(record.provider, "ok").inc()
                stored = (
                    {**record.credentials, BEARER: tokens.token}
                    if renewing
                    else {**record.credentials, **tokens.credentials(old_refresh)}
                )
                await self.connections.store_tokens(session, connection_id, stored, tokens.expires_in)
        if revoked_reason is not None:  # raised after the transaction committed the new state
            raise NeedsReconnect(revoked_reason, provider=record.provider)
        return await self.connections.by_id(connection_id)

    def auth(self, connection_id: int) -> ConnectionAuth:
        return ConnectionAuth(self, connection_id)


class ConnectionAuth:
    """The `Auth` ProviderHTTP asks for: a fresh bearer token, and one forced refresh on a 401.

    One object serves one run (a collection, a health check), and keeps the record it read in memory:
    later requests of the run reuse it while `should_refresh` says it is fresh, instead of a database
    read and a decryption per HTTP call (the digest fan-out measured that as most of its time). A token
    revoked meanwhile meets a 401, which re-reads the row (`refresh`); a token nearing expiry is
    re-read and refreshed under the locks as before."""

    def __init__(self, manager: CredentialManager, connection_id: int) -> None:
        self.manager = manager
        self.connection_id = connection_id
        self._sent: str | None = None
        self._record: ConnectionRecord | None = None
        self._reading = asyncio.Lock()

    async def headers(self) -> dict[str, str]:
        record = self._record
        if record is None or self.manager._needs_refresh(record, None):
            async with self._reading:  # the run's concurrent first requests wait for one read
                record = self._record
                if record is None or self.manager._needs_refresh(record, None):
                    record = self._record = await self.manager.current(self.connection_id)
        credentials = record.credentials
        self._sent = credentials.get("access_token") or credentials.get(BEARER)
        return {"Authorization": f"Bearer {self._sent}"}

    async def refresh(self) -> bool:
        self._record = None  # whatever happens, the next request reads the row again
        record = await self.manager.connections.by_id(self.connection_id)
        if record is None or not (record.credentials.get("refresh_token") or self.manager.renewable(record)):
            return False  # an API key cannot be refreshed: a 401 means it was revoked
        try:
            await self.manager.current(self.connection_id, failed_token=self._sent)
        except NeedsReconnect:
            return False
        return True

    def __repr__(self) -> str:
        return f"ConnectionAuth(connection={self.connection_id})"
