"""Single-use, expiring OAuth states (Slack install, provider connect links).

The state is 256 random bits, shown to the browser once; we keep only its
SHA-256. `consume` is one UPDATE guarded by `consumed_at IS NULL`, so a state
is consumed at most once even when two callbacks race on two replicas.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, update

from bot.core.clock import Clock, utcnow
from storage.crypto import Encryptor
from storage.db import Database
from storage.models import OAuthState

log = logging.getLogger("quolum.storage.states")


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True)
class StateRecord:
    kind: str
    team_id: str | None
    user_id: str | None
    provider: str | None
    payload: dict = field(repr=False)
    created_at: datetime
    expires_at: datetime
    consumed_at: datetime | None

    def status(self, now: datetime) -> str:
        """'valid', 'used' or 'expired'."""
        if self.consumed_at is not None:
            return "used"
        if now >= self.expires_at:
            return "expired"
        return "valid"


class StateStore:
    def __init__(self, db: Database, encryptor: Encryptor, clock: Clock = utcnow) -> None:
        self.db = db
        self.encryptor = encryptor
        self.clock = clock

    async def issue(
        self,
        kind: str,
        *,
        ttl: timedelta,
        team_id: str | None = None,
        user_id: str | None = None,
        provider: str | None = None,
        payload: dict | None = None,
    ) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.db.session() as session, session.begin():
            session.add(
                OAuthState(
                    state_hash=_hash(state),
                    kind=kind,
                    team_id=team_id,
                    user_id=user_id,
                    provider=provider,
                    payload_enc=self.encryptor.encrypt_json(payload or {}),
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return state

    async def find(self, state: str, kind: str) -> StateRecord | None:
        """Look without consuming (to show a friendly page before sending someone on)."""
        if not state or len(state) > 200:
            return None
        async with self.db.session() as session:
            row = await session.get(OAuthState, _hash(state))
        if row is None or row.kind != kind:
            return None
        return self._record(row)

    async def consume(self, state: str, kind: str) -> tuple[str, StateRecord | None]:
        """Atomically mark the state used. Returns (status, record): status is
        'valid' when this call consumed it, else 'unknown', 'used' or 'expired'."""
        record = await self.find(state, kind)
        if record is None:
            return "unknown", None
        now = self.clock()
        status = record.status(now)
        if status != "valid":
            return status, record
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(OAuthState)
                .where(OAuthState.state_hash == _hash(state), OAuthState.consumed_at.is_(None))
                .values(consumed_at=now)
            )
        if result.rowcount != 1:
            return "used", record
        return "valid", record

    async def purge_expired(self, older_than: timedelta = timedelta(days=1)) -> int:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                delete(OAuthState).where(OAuthState.expires_at < self.clock() - older_than)
            )
        return result.rowcount or 0

    def _record(self, row: OAuthState) -> StateRecord:
        return StateRecord(
            kind=row.kind,
            team_id=row.team_id,
            user_id=row.user_id,
            provider=row.provider,
            payload=self.encryptor.decrypt_json(row.payload_enc) if row.payload_enc else {},
            created_at=row.created_at,
            expires_at=row.expires_at,
            consumed_at=row.consumed_at,
        )


class SlackInstallStateStore(AsyncOAuthStateStore):
    """Bolt's state-store interface over our atomic store (slack_sdk's SQLAlchemy
    store selects then deletes, which lets two racing callbacks both succeed)."""

    KIND = "slack_install"

    def __init__(self, states: StateStore, expiration_seconds: int = 600) -> None:
        self.states = states
        self.ttl = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        return await self.states.issue(self.KIND, ttl=self.ttl)

    async def async_consume(self, state: str) -> bool:
        status, _ = await self.states.consume(state, self.KIND)
        return status == "valid"
