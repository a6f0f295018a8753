"""Invitations: who asked whom to connect what, and how it ended. Every change is one conditional
UPDATE on the row's status, so a click, an expiry run and a connection cannot both win."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from bot.core.clock import Clock, utcnow
from storage.db import Database
from storage.models import Invitation

OPEN, ACCEPTED, DECLINED, EXPIRED = "open", "accepted", "declined", "expired"
VALID_FOR = timedelta(days=7)


@dataclass(frozen=True)
class InvitationRecord:
    id: str
    team_id: str
    provider: str
    inviter_id: str
    invitee_id: str
    status: str
    created_at: datetime
    expires_at: datetime
    reminded_at: datetime | None
    dm_channel: str | None
    dm_ts: str | None

    def is_open(self, now: datetime) -> bool:
        return self.status == OPEN and now < self.expires_at


def _record(row: Invitation) -> InvitationRecord:
    return InvitationRecord(
        row.id,
        row.team_id,
        row.provider,
        row.inviter_id,
        row.invitee_id,
        row.status,
        row.created_at,
        row.expires_at,
        row.reminded_at,
        row.dm_channel,
        row.dm_ts,
    )


def new_id() -> str:
    return secrets.token_hex(12)


class InvitationStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def record_sent(
        self,
        invitation_id: str,
        *,
        team_id: str,
        provider: str,
        inviter_id: str,
        invitee_id: str,
        dm_channel: str,
        dm_ts: str,
    ) -> InvitationRecord:
        """Called once the DM is delivered: an invitation exists only if its DM was sent."""
        now = self.clock()
        row = Invitation(
            id=invitation_id,
            team_id=team_id,
            provider=provider,
            inviter_id=inviter_id,
            invitee_id=invitee_id,
            status=OPEN,
            created_at=now,
            expires_at=now + VALID_FOR,
            dm_channel=dm_channel,
            dm_ts=dm_ts,
        )
        async with self.db.session() as session, session.begin():
            session.add(row)
        return _record(row)

    async def get(self, invitation_id: str) -> InvitationRecord | None:
        if not invitation_id or len(invitation_id) > 32:
            return None
        async with self.db.session() as session:
            row = await session.get(Invitation, invitation_id)
        return _record(row) if row else None

    async def open_for(
        self, team_id: str, invitee_id: str, provider: str, since: datetime
    ) -> InvitationRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Invitation)
                .where(
                    Invitation.team_id == team_id,
                    Invitation.invitee_id == invitee_id,
                    Invitation.provider == provider,
                    Invitation.status == OPEN,
                    Invitation.created_at >= since,
                    Invitation.expires_at > self.clock(),
                )
                .order_by(Invitation.created_at.desc())
                .limit(1)
            )
        return _record(row) if row else None

    async def sent_since(self, team_id: str, inviter_id: str, since: datetime) -> int:
        async with self.db.session() as session:
            return (
                await session.scalar(
                    select(func.count())
                    .select_from(Invitation)
                    .where(
                        Invitation.team_id == team_id,
                        Invitation.inviter_id == inviter_id,
                        Invitation.created_at >= since,
                    )
                )
                or 0
            )

    async def open_in_team(self, team_id: str) -> list[InvitationRecord]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Invitation)
                .where(
                    Invitation.team_id == team_id,
                    Invitation.status == OPEN,
                    Invitation.expires_at > self.clock(),
                )
                .order_by(Invitation.created_at)
            )
            return [_record(r) for r in rows]

    async def close(self, invitation_id: str, status: str) -> bool:
        """open -> accepted/declined/expired; True only for the caller that changed it."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(Invitation)
                .where(Invitation.id == invitation_id, Invitation.status == OPEN)
                .values(status=status, closed_at=self.clock())
            )
        return result.rowcount == 1

    async def reminded(self, invitation_id: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(Invitation).where(Invitation.id == invitation_id).values(reminded_at=self.clock())
            )

    async def open_by_invitee(self, team_id: str, invitee_id: str, provider: str) -> list[InvitationRecord]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Invitation).where(
                    Invitation.team_id == team_id,
                    Invitation.invitee_id == invitee_id,
                    Invitation.provider == provider,
                    Invitation.status == OPEN,
                )
            )
            return [_record(r) for r in rows]

    async def overdue(self, limit: int = 500) -> list[InvitationRecord]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Invitation)
                .where(Invitation.status == OPEN, Invitation.expires_at <= self.clock())
                .order_by(Invitation.expires_at)
                .limit(limit)
            )
            return [_record(r) for r in rows]

    async def forget_team(self, session, team_id: str) -> None:
        await session.execute(delete(Invitation).where(Invitation.team_id == team_id))
