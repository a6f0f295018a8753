"""Single-use, expiring OAuth states (Slack install, provider connect links).

The state is 256 random bits, shown to the browser once; we keep only its
SHA-256. `consume` is one UPDATE guarded by `consumed_at IS NULL`, so a state
is consumed at most once even when two callbacks race on two replicas.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import and_, delete, or_, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
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
    browser_hash: str | None = field(default=None, repr=False)

    def opened_in(self, binding: str | None) -> bool:
        """True when `binding` (the browser's cookie) is the one this state was bound to at start."""
        return bool(binding and self.browser_hash) and hmac.compare_digest(_hash(binding), self.browser_hash)

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

    async def bind_browser(self, state: str, kind: str, binding: str) -> bool:
        """Bind an unused state to the browser holding `binding` (a random cookie value, not the state):
        the first browser to open the link gets it; the same browser may open it again, no other."""
        if not state or len(state) > 200:
            return False
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(OAuthState)
                .where(
                    OAuthState.state_hash == _hash(state),
                    OAuthState.kind == kind,
                    OAuthState.consumed_at.is_(None),
                    or_(OAuthState.browser_hash.is_(None), OAuthState.browser_hash == _hash(binding)),
                )
                .values(browser_hash=_hash(binding))
            )
        return result.rowcount == 1

    async def use_once(self, state: str, kind: str, *, issued_at: datetime, expires_at: datetime) -> bool:
        """Record a state that was issued without a row (a signed one) as used: True the first time.
        The row lives until the state would have expired anyway."""
        try:
            async with self.db.session() as session, session.begin():
                session.add(
                    OAuthState(
                        state_hash=_hash(state),
                        kind=kind,
                        created_at=issued_at,
                        expires_at=expires_at,
                        consumed_at=self.clock(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def purge_expired(
        self, older_than: timedelta = timedelta(days=1), *, prompt_kinds: tuple[str, ...] = ()
    ) -> int:
        """Delete states expired more than `older_than` ago (so an old link still gets its friendly
        "expired" page for a day), and those of `prompt_kinds` as soon as they expire."""
        now = self.clock()
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                delete(OAuthState).where(
                    or_(
                        OAuthState.expires_at < now - older_than,
                        and_(OAuthState.kind.in_(prompt_kinds), OAuthState.expires_at < now),
                    )
                )
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
            browser_hash=row.browser_hash,
        )


class SlackInstallStateStore(AsyncOAuthStateStore):
    """Bolt's state-store interface for the Slack install flow, without a row per visit.

    `/slack/install` is unauthenticated, so a row per visit let anyone fill the table (1,000 requests,
    1,000 rows). The state is signed instead: `<issued>.<nonce>.<HMAC>` under a key derived from the
    app's client secret, valid for `expiration_seconds`. Consuming checks the signature and the age,
    then records the state as used (one INSERT on its hash, so two racing callbacks cannot both win,
    unlike slack_sdk's SQLAlchemy store, which selects then deletes). Only real callbacks make rows,
    and they are purged as soon as they expire."""

    KIND = "slack_install"

    def __init__(self, states: StateStore, secret: str, expiration_seconds: int = 600) -> None:
        self.states = states
        self.ttl = timedelta(seconds=expiration_seconds)
        self._key = hashlib.sha256(b"quolum slack install state\0" + secret.encode()).digest()

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    async def async_issue(self, *args, **kwargs) -> str:
        body = f"{int(self.states.clock().timestamp())}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._sign(body)}"

    async def async_consume(self, state: str) -> bool:
        issued, body, signature = _signed_parts(state)
        if issued is None or not hmac.compare_digest(self._sign(body), signature):
            return False
        issued_at = datetime.fromtimestamp(issued, UTC)
        now = self.states.clock()
        if not issued_at - timedelta(minutes=1) <= now < issued_at + self.ttl:
            return False
        return await self.states.use_once(
            state, self.KIND, issued_at=issued_at, expires_at=issued_at + self.ttl
        )


def _signed_parts(state: str | None) -> tuple[int | None, str, str]:
    parts = (state or "").split(".")
    if len(state or "") > 200 or len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12:
        return None, "", ""
    return int(parts[0]), f"{parts[0]}.{parts[1]}", parts[2]
