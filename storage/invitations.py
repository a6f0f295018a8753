"""Invitations: who asked whom to connect what, and how it ended. Every change is one conditional
UPDATE on the row's status, so a click, an expiry run and a connection cannot both win."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from storage.db import Database
from storage.models import Invitation, InvitationSender

OPEN, ACCEPTED, DECLINED, EXPIRED = "open", "accepted", "declined", "expired"
VALID_FOR = timedelta(days=7)
UNDELIVERED = timedelta(minutes=2)  # a reservation whose DM was not sent by then was lost in a crash


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


@dataclass(frozen=True)
class Reservation:
    """What `reserve` did: 'reserved' (send the DM), 'open' (that person has an open invitation for that
    provider already: `invitation`, or None when it closed meanwhile) or 'limit' (`sent` already)."""

    outcome: Literal["reserved", "open", "limit"]
    invitation: InvitationRecord | None = None
    sent: int = 0


def new_id() -> str:
    return secrets.token_hex(12)


class InvitationStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def reserve(
        self,
        invitation_id: str,
        *,
        team_id: str,
        provider: str,
        inviter_id: str,
        invitee_id: str,
        since: datetime,
        limit: int,
    ) -> Reservation:
        """Before the DM is sent: the inviter's count of invitations since `since` and the insert of
        this one, in one transaction holding the inviter's sender row, so concurrent invites by one
        member (on any replica) pass the limit exactly `limit` times; the unique key on open
        invitations makes a second identical invite find the first. Call `delivered` or `cancel`."""
        now = self.clock()
        key = (
            Invitation.team_id == team_id,
            Invitation.invitee_id == invitee_id,
            Invitation.provider == provider,
            Invitation.status == OPEN,
        )
        try:
            async with self.db.session() as session, session.begin():
                await self._hold_sender(session, team_id, inviter_id, now)
                # an open row past its time, or whose DM never went out (a crash mid-send), blocks nobody
                await session.execute(
                    update(Invitation)
                    .where(
                        *key,
                        or_(
                            Invitation.expires_at <= now,
                            and_(Invitation.dm_ts.is_(None), Invitation.created_at < now - UNDELIVERED),
                        ),
                    )
                    .values(status=EXPIRED, closed_at=now)
                )
                existing = await session.scalar(select(Invitation).where(*key).limit(1))
                if existing is not None:
                    return Reservation("open", _record(existing))
                sent = await session.scalar(
                    select(func.count())
                    .select_from(Invitation)
                    .where(
                        Invitation.team_id == team_id,
                        Invitation.inviter_id == inviter_id,
                        Invitation.created_at >= since,
                    )
                )
                if sent >= limit:
                    return Reservation("limit", sent=sent)
                row = Invitation(
                    id=invitation_id,
                    team_id=team_id,
                    provider=provider,
                    inviter_id=inviter_id,
                    invitee_id=invitee_id,
                    status=OPEN,
                    created_at=now,
                    expires_at=now + VALID_FOR,
                )
                session.add(row)
                await session.flush()
        except IntegrityError:  # another member's invitation of the same person won the unique key
            return Reservation("open", await self.open_for(team_id, invitee_id, provider, since=None))
        return Reservation("reserved", _record(row), sent=sent + 1)

    async def _hold_sender(self, session, team_id: str, inviter_id: str, now: datetime) -> None:
        """Write the sender's row first thing in the transaction: PostgreSQL locks it until commit, and
        SQLite takes its write lock, so a second reservation by the same member waits here."""
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(InvitationSender)
            .values(team_id=team_id, inviter_id=inviter_id, last_reserved_at=now)
            .on_conflict_do_update(index_elements=["team_id", "inviter_id"], set_={"last_reserved_at": now})
        )

    async def delivered(self, invitation_id: str, *, dm_channel: str, dm_ts: str | None) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(Invitation)
                .where(Invitation.id == invitation_id)
                .values(dm_channel=dm_channel, dm_ts=dm_ts or "")
            )

    async def cancel(self, invitation_id: str) -> None:
        """The DM could not be sent: the reservation goes, as if it had never been made."""
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(Invitation).where(Invitation.id == invitation_id, Invitation.dm_ts.is_(None))
            )

    async def get(self, invitation_id: str) -> InvitationRecord | None:
        if not invitation_id or len(invitation_id) > 32:
            return None
        async with self.db.session() as session:
            row = await session.get(Invitation, invitation_id)
        return _record(row) if row else None

    async def open_for(
        self, team_id: str, invitee_id: str, provider: str, since: datetime | None
    ) -> InvitationRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Invitation)
                .where(
                    Invitation.team_id == team_id,
                    Invitation.invitee_id == invitee_id,
                    Invitation.provider == provider,
                    Invitation.status == OPEN,
                    Invitation.created_at >= (since or datetime.min.replace(tzinfo=UTC)),
                    Invitation.expires_at > self.clock(),
                )
                .order_by(Invitation.created_at.desc())
                .limit(1)
            )
        return _record(row) if row else None

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

    async def accept(
        self, invitation_id: str, *, team_id: str, invitee_id: str, provider: str
    ) -> InvitationRecord | None:
        """Use the invitation: open -> accepted in one conditional UPDATE, only while it is open and
        unexpired, for that person, that workspace and that provider. The record for the one caller
        that used it; None for everyone else (closed, expired, someone else's, another provider)."""
        if not invitation_id or len(invitation_id) > 32:
            return None
        now = self.clock()
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(Invitation)
                .where(
                    Invitation.id == invitation_id,
                    Invitation.team_id == team_id,
                    Invitation.invitee_id == invitee_id,
                    Invitation.provider == provider,
                    Invitation.status == OPEN,
                    Invitation.expires_at > now,
                )
                .values(status=ACCEPTED, closed_at=now)
            )
        if result.rowcount != 1:
            return None
        return await self.get(invitation_id)

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
        await session.execute(delete(InvitationSender).where(InvitationSender.team_id == team_id))
