"""Tokens a provider issued to an OAuth callback that are not stored with a connection yet.

`record` writes them (encrypted) right after the code exchange; the connection's own save deletes
the row in its transaction (`ConnectionStore.save_connected(settles=...)`). Whatever is still here
after `lost_after` was lost by a callback that died in between: `lost()` lists it for housekeeping,
which revokes the tokens at the provider and then `forget`s the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from core.clock import Clock, utcnow
from storage.crypto import Encryptor
from storage.db import Database
from storage.models import IssuedToken


@dataclass(frozen=True)
class Issued:
    id: int
    provider: str
    team_id: str | None
    credentials: dict = field(repr=False)
    issued_at: datetime


class IssuedTokenStore:
    def __init__(self, db: Database, encryptor: Encryptor, clock: Clock = utcnow) -> None:
        self.db = db
        self.encryptor = encryptor
        self.clock = clock

    async def record(self, provider: str, team_id: str | None, credentials: dict) -> int:
        async with self.db.session() as session, session.begin():
            row = IssuedToken(
                provider=provider,
                team_id=team_id,
                credentials_enc=self.encryptor.encrypt_json(credentials),
                issued_at=self.clock(),
            )
            session.add(row)
            await session.flush()
            return row.id

    async def forget(self, issued_id: int) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(delete(IssuedToken).where(IssuedToken.id == issued_id))

    async def lost(self, lost_after: timedelta, limit: int = 100) -> list[Issued]:
        """Tokens recorded more than `lost_after` ago and never stored: their callback died."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(IssuedToken)
                .where(IssuedToken.issued_at <= self.clock() - lost_after)
                .order_by(IssuedToken.id)
                .limit(limit)
            )
            return [
                Issued(
                    r.id, r.provider, r.team_id, self.encryptor.decrypt_json(r.credentials_enc), r.issued_at
                )
                for r in rows
            ]
