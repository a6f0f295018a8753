"""Provider connections: who connected which account, its state, its encrypted credentials, its history."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock, utcnow
from core.connection_status import CONNECTED, DISCONNECTED, NEEDS_RECONNECT  # noqa: F401 (re-exported)
from storage.crypto import Encryptor
from storage.db import Database
from storage.models import Connection, ConnectionEvent, IssuedToken, WorkspaceAdmin


@dataclass(frozen=True)
class ConnectionRecord:
    id: int
    team_id: str
    provider: str
    status: str
    status_reason: str | None
    account_id: str | None
    account_name: str | None
    details: dict
    scopes: tuple[str, ...]
    unavailable: tuple[str, ...]
    credentials: dict = field(repr=False)  # decrypted; {} when disconnected
    expires_at: datetime | None
    token_lifetime: int | None
    connected_by: str | None
    connected_at: datetime | None
    last_used_at: datetime | None
    last_refreshed_at: datetime | None
    disconnected_by: str | None
    disconnected_at: datetime | None
    updated_at: datetime | None = None  # when the status last changed (e.g. "needs reconnect since")

    @property
    def exists(self) -> bool:
        """A connection the card offers to Reconnect (connected or needing it)."""
        return self.status in (CONNECTED, NEEDS_RECONNECT)


@dataclass(frozen=True)
class SavedConnection:
    record: ConnectionRecord
    previous_account: tuple[str | None, str | None] | None  # (id, name) when a different account was replaced
    reconnected: bool


def _loads(text: str | None, default):
    return json.loads(text) if text else default


class ConnectionStore:
    def __init__(self, db: Database, encryptor: Encryptor, clock: Clock = utcnow) -> None:
        self.db = db
        self.encryptor = encryptor
        self.clock = clock

    def _record(self, row: Connection) -> ConnectionRecord:
        return ConnectionRecord(
            id=row.id,
            team_id=row.team_id,
            provider=row.provider,
            status=row.status,
            status_reason=row.status_reason,
            account_id=row.account_id,
            account_name=row.account_name,
            details=_loads(row.details, {}),
            scopes=tuple(_loads(row.scopes, [])),
            unavailable=tuple(_loads(row.unavailable, [])),
            credentials=self.encryptor.decrypt_json(row.credentials_enc) if row.credentials_enc else {},
            expires_at=row.expires_at,
            token_lifetime=row.token_lifetime,
            connected_by=row.connected_by,
            connected_at=row.connected_at,
            last_used_at=row.last_used_at,
            last_refreshed_at=row.last_refreshed_at,
            disconnected_by=row.disconnected_by,
            disconnected_at=row.disconnected_at,
            updated_at=row.updated_at,
        )

    async def get(self, team_id: str, provider: str) -> ConnectionRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Connection).where(Connection.team_id == team_id, Connection.provider == provider)
            )
        return self._record(row) if row else None

    async def by_id(self, connection_id: int) -> ConnectionRecord | None:
        async with self.db.session() as session:
            row = await session.get(Connection, connection_id)
        return self._record(row) if row else None

    async def for_team(self, team_id: str) -> dict[str, ConnectionRecord]:
        async with self.db.session() as session:
            rows = await session.scalars(select(Connection).where(Connection.team_id == team_id))
            return {row.provider: self._record(row) for row in rows}

    async def active(self, team_id: str | None = None, provider: str | None = None) -> AsyncIterator[int]:
        """Ids of connections that hold credentials, streamed (no list of every connection in memory)."""
        query = select(Connection.id).where(Connection.status != DISCONNECTED).order_by(Connection.id)
        if team_id:
            query = query.where(Connection.team_id == team_id)
        if provider:
            query = query.where(Connection.provider == provider)
        async with self.db.session() as session:
            result = await session.stream_scalars(query)
            async for connection_id in result:
                yield connection_id

    async def count_active(self, team_id: str | None = None, provider: str | None = None) -> int:
        query = select(func.count()).select_from(Connection).where(Connection.status == CONNECTED)
        if team_id:
            query = query.where(Connection.team_id == team_id)
        if provider:
            query = query.where(Connection.provider == provider)
        async with self.db.session() as session:
            return await session.scalar(query) or 0

    async def save_connected(
        self,
        *,
        team_id: str,
        provider: str,
        account_id: str,
        account_name: str,
        credentials: dict,
        connected_by: str,
        scopes: list[str],
        details: dict,
        expires_in: int | None = None,
        unavailable: list[str] | None = None,
        settles: int | None = None,
    ) -> SavedConnection:
        """Create the connection, or replace the credentials of the existing one (keeping its history).
        `settles`: the `issued_tokens` row of these credentials, deleted in the same transaction."""
        now = self.clock()
        async with self.db.session() as session, session.begin():
            if settles is not None:
                await session.execute(delete(IssuedToken).where(IssuedToken.id == settles))
            row = await session.scalar(
                select(Connection)
                .where(Connection.team_id == team_id, Connection.provider == provider)
                .with_for_update()
            )
            previous, reconnected = None, False
            if row is None:
                row = Connection(team_id=team_id, provider=provider, created_at=now)
                session.add(row)
            else:
                reconnected = row.status != DISCONNECTED
                if row.account_id and row.account_id != account_id and row.status != DISCONNECTED:
                    previous = (row.account_id, row.account_name)
            row.status, row.status_reason = CONNECTED, None
            row.account_id, row.account_name = account_id, account_name
            row.details = json.dumps(details)
            row.scopes = json.dumps(sorted(scopes))
            row.unavailable = json.dumps(sorted(unavailable or []))
            row.credentials_enc = self.encryptor.encrypt_json(credentials)
            row.token_lifetime = expires_in
            row.expires_at = now + timedelta(seconds=expires_in) if expires_in else None
            row.connected_by, row.connected_at = connected_by, now
            row.last_used_at, row.last_refreshed_at = now, None
            row.disconnected_by = row.disconnected_at = None
            row.updated_at = now
            await session.flush()
            kind = "portal_changed" if previous else ("reconnected" if reconnected else "connected")
            detail = f"{previous[1] or previous[0]} -> {account_name}" if previous else account_name
            self._event(session, row, kind, connected_by, detail)
        return SavedConnection(await self.by_id(row.id), previous, reconnected)

    @contextlib.asynccontextmanager
    async def locked(self, connection_id: int) -> AsyncIterator[tuple[AsyncSession, ConnectionRecord | None]]:
        """A transaction holding the connection's row lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite
        serialises writers itself), yielding the row as it is after the lock was taken."""
        async with self.db.session() as session, session.begin():
            row = await session.scalar(
                select(Connection).where(Connection.id == connection_id).with_for_update()
            )
            yield session, (self._record(row) if row else None)

    async def store_tokens(
        self, session: AsyncSession, connection_id: int, credentials: dict, expires_in: int | None
    ) -> None:
        """Inside `locked`: keep the refreshed credentials."""
        now = self.clock()
        await session.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(
                credentials_enc=self.encryptor.encrypt_json(credentials),
                expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
                token_lifetime=expires_in,
                last_refreshed_at=now,
                updated_at=now,
            )
        )

    async def mark_needs_reconnect(
        self, connection_id: int, reason: str, session: AsyncSession | None = None
    ) -> bool:
        """Returns True when this call changed the state (so an alert is raised once)."""
        async with self._session(session) as s:
            result = await s.execute(
                update(Connection)
                .where(Connection.id == connection_id, Connection.status == CONNECTED)
                .values(status=NEEDS_RECONNECT, status_reason=reason, updated_at=self.clock())
            )
            changed = result.rowcount == 1
            if changed:
                row = await s.get(Connection, connection_id)
                self._event(s, row, "needs_reconnect", None, reason)
        return changed

    async def mark_unavailable(self, connection_id: int, features: list[str]) -> None:
        async with self._session(None) as s:
            row = await s.get(Connection, connection_id)
            if row is not None:
                row.unavailable = json.dumps(sorted(set(_loads(row.unavailable, [])) | set(features)))

    async def set_features(self, connection_id: int, scopes: list[str], unavailable: list[str]) -> None:
        """The key's permissions as its provider reports them now (an admin may edit them in place)."""
        async with self._session(None) as s:
            row = await s.get(Connection, connection_id)
            if row is not None:
                row.scopes = json.dumps(sorted(set(scopes)))
                row.unavailable = json.dumps(sorted(set(unavailable)))

    async def touch(self, connection_id: int) -> None:
        async with self._session(None) as s:
            await s.execute(
                update(Connection).where(Connection.id == connection_id).values(last_used_at=self.clock())
            )

    async def disconnect(self, connection_id: int, actor: str) -> ConnectionRecord | None:
        """Delete the credentials, keep the row and its history; returns the record as it was."""
        async with self.db.session() as session, session.begin():
            row = await session.scalar(
                select(Connection).where(Connection.id == connection_id).with_for_update()
            )
            if row is None or row.status == DISCONNECTED:
                return None
            before = self._record(row)
            now = self.clock()
            row.status, row.status_reason = DISCONNECTED, None
            row.credentials_enc, row.expires_at = None, None
            row.disconnected_by, row.disconnected_at, row.updated_at = actor, now, now
            self._event(session, row, "disconnected", actor, row.account_name)
        return before

    async def history(self, connection_id: int) -> list[tuple[str, str | None, str | None]]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(ConnectionEvent)
                .where(ConnectionEvent.connection_id == connection_id)
                .order_by(ConnectionEvent.id)
            )
            return [(r.kind, r.actor, r.detail) for r in rows]

    async def forget_team(self, session: AsyncSession, team_id: str) -> None:
        await session.execute(delete(ConnectionEvent).where(ConnectionEvent.team_id == team_id))
        await session.execute(delete(Connection).where(Connection.team_id == team_id))
        await session.execute(delete(WorkspaceAdmin).where(WorkspaceAdmin.team_id == team_id))

    def _event(
        self, session: AsyncSession, row: Connection, kind: str, actor: str | None, detail: str | None
    ):
        session.add(
            ConnectionEvent(
                connection_id=row.id,
                team_id=row.team_id,
                at=self.clock(),
                kind=kind,
                actor=actor,
                detail=detail,
            )
        )

    @contextlib.asynccontextmanager
    async def _session(self, session: AsyncSession | None):
        if session is not None:
            yield session
            return
        async with self.db.session() as s, s.begin():
            yield s


class AdminStore:
    """Quolum admins granted by Slack admins (Slack owners and admins are admins already)."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def is_granted(self, team_id: str, user_id: str) -> bool:
        async with self.db.session() as session:
            return await session.get(WorkspaceAdmin, (team_id, user_id)) is not None

    async def grant(self, team_id: str, user_id: str, granted_by: str) -> bool:
        async with self.db.session() as session, session.begin():
            if await session.get(WorkspaceAdmin, (team_id, user_id)) is not None:
                return False
            session.add(
                WorkspaceAdmin(
                    team_id=team_id, user_id=user_id, granted_by=granted_by, granted_at=self.clock()
                )
            )
        return True

    async def revoke(self, team_id: str, user_id: str) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                delete(WorkspaceAdmin).where(
                    WorkspaceAdmin.team_id == team_id, WorkspaceAdmin.user_id == user_id
                )
            )
        return result.rowcount == 1

    async def list(self, team_id: str) -> list[tuple[str, str]]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(WorkspaceAdmin)
                .where(WorkspaceAdmin.team_id == team_id)
                .order_by(WorkspaceAdmin.granted_at)
            )
            return [(r.user_id, r.granted_by) for r in rows]
