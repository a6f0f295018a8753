"""Incidents, connection checks and alert routes: the database half of connection health.

Replicas coordinate through the unique key (connection_id, subject, number): the replica whose INSERT of the
next number succeeds owns the new incident and posts its alert; the others see IntegrityError and
read the row it wrote. Every later step is a conditional UPDATE whose row count says who did it
(the reminder once, the resolution once). No locks are held while Slack is called.

An incident's `subject` is ACCESS (the connection fails: reconnect alerts) or SEATS (free seats ran
out); each has at most one open incident per connection. Every query defaults to ACCESS, so the
Connections card, App Home, health and the alerts-open metric keep meaning access incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from storage.db import Database
from storage.models import AlertRoute, Connection, ConnectionCheck, Incident

ACCESS = "access"
SEATS = "seats"


@dataclass(frozen=True)
class IncidentRecord:
    id: int
    connection_id: int
    number: int
    subject: str
    team_id: str
    provider: str
    kind: str
    reason: str
    feature: str | None
    failing_since: datetime
    opened_at: datetime
    last_checked_at: datetime
    channel: str | None
    ts: str | None
    reminded_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def _record(row: Incident) -> IncidentRecord:
    return IncidentRecord(**{name: getattr(row, name) for name in IncidentRecord.__dataclass_fields__})


class IncidentStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def open_for(self, connection_id: int, subject: str = ACCESS) -> IncidentRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Incident)
                .where(
                    Incident.connection_id == connection_id,
                    Incident.subject == subject,
                    Incident.resolved_at.is_(None),
                )
                .order_by(Incident.number.desc())
                .limit(1)
            )
        return _record(row) if row else None

    async def open_in_team(self, team_id: str, subject: str = ACCESS) -> dict[str, IncidentRecord]:
        """provider -> its open incident, for the Connections card and App Home."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Incident)
                .where(
                    Incident.team_id == team_id,
                    Incident.subject == subject,
                    Incident.resolved_at.is_(None),
                )
                .order_by(Incident.id)
            )
            return {row.provider: _record(row) for row in rows}

    async def count_open(self, provider: str, subject: str = ACCESS) -> int:
        """Open incidents of one provider across every workspace (the alerts-open metric)."""
        async with self.db.session() as session:
            return await session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(
                    Incident.provider == provider,
                    Incident.subject == subject,
                    Incident.resolved_at.is_(None),
                )
            )

    async def get(self, incident_id: int) -> IncidentRecord | None:
        async with self.db.session() as session:
            row = await session.get(Incident, incident_id)
        return _record(row) if row else None

    async def open(
        self,
        *,
        connection_id: int,
        team_id: str,
        provider: str,
        kind: str,
        reason: str,
        feature: str | None,
        failing_since: datetime,
        subject: str = ACCESS,
    ) -> tuple[IncidentRecord, bool]:
        """(the open incident, True if this call opened it). Exactly one caller gets True."""
        existing = await self.open_for(connection_id, subject)
        if existing is not None:
            return existing, False
        now = self.clock()
        try:
            async with self.db.session() as session, session.begin():
                # The next number follows the last *resolved* incident, so every replica that finds
                # none open computes the same number, even if another has just committed one: the
                # unique key then lets exactly one of them in.
                last = await session.scalar(
                    select(func.max(Incident.number)).where(
                        Incident.connection_id == connection_id,
                        Incident.subject == subject,
                        Incident.resolved_at.is_not(None),
                    )
                )
                row = Incident(
                    connection_id=connection_id,
                    number=(last or 0) + 1,
                    subject=subject,
                    team_id=team_id,
                    provider=provider,
                    kind=kind,
                    reason=reason,
                    feature=feature,
                    failing_since=failing_since,
                    opened_at=now,
                    last_checked_at=now,
                )
                session.add(row)
                await session.flush()
                record = _record(row)
        except IntegrityError:  # another replica opened it first
            existing = await self.open_for(connection_id, subject)
            if existing is None:  # ... and it was resolved meanwhile: nothing is open now
                raise
            return existing, False
        return record, True

    async def set_message(self, incident_id: int, channel: str, ts: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(Incident).where(Incident.id == incident_id).values(channel=channel, ts=ts)
            )

    async def checked(
        self, incident_id: int, *, kind: str, reason: str, feature: str | None
    ) -> IncidentRecord:
        """Another failing check: what it says now and when."""
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.resolved_at.is_(None))
                .values(last_checked_at=self.clock(), kind=kind, reason=reason, feature=feature)
            )
            return _record(await session.get(Incident, incident_id))

    async def claim_reminder(self, incident_id: int) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(Incident)
                .where(
                    Incident.id == incident_id,
                    Incident.reminded_at.is_(None),
                    Incident.resolved_at.is_(None),
                    Incident.ts.is_not(None),
                )
                .values(reminded_at=self.clock())
            )
        return result.rowcount == 1

    async def resolve(self, incident_id: int, resolved_by: str | None) -> IncidentRecord | None:
        """Close it; the record when this call did, None when someone else had."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.resolved_at.is_(None))
                .values(resolved_at=self.clock(), resolved_by=resolved_by)
            )
            if result.rowcount != 1:
                return None
            return _record(await session.get(Incident, incident_id))

    async def forget_team(self, session, team_id: str) -> None:
        """Inside Storage.forget_workspace's transaction, before the connections go."""
        ids = select(Connection.id).where(Connection.team_id == team_id)
        await session.execute(delete(ConnectionCheck).where(ConnectionCheck.connection_id.in_(ids)))
        await session.execute(delete(Incident).where(Incident.team_id == team_id))
        await session.execute(delete(AlertRoute).where(AlertRoute.team_id == team_id))


class CheckStore:
    """The latest check of each connection: `record()` returns since when it has been failing."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def last_checked(self, connection_id: int) -> datetime | None:
        async with self.db.session() as session:
            row = await session.get(ConnectionCheck, connection_id)
        return row.last_checked_at if row else None

    async def record(self, connection_id: int, ok: bool) -> datetime | None:
        now = self.clock()
        for _ in range(2):  # a first check on two replicas at once: the loser updates the winner's row
            try:
                async with self.db.session() as session, session.begin():
                    row = await session.scalar(
                        select(ConnectionCheck)
                        .where(ConnectionCheck.connection_id == connection_id)
                        .with_for_update()
                    )
                    if row is None:
                        row = ConnectionCheck(connection_id=connection_id, last_checked_at=now)
                        session.add(row)
                    row.last_checked_at = now
                    if ok:
                        row.last_ok_at, row.failing_since = now, None
                    elif row.failing_since is None:
                        row.failing_since = now
                    return row.failing_since
            except IntegrityError:
                continue
        return None if ok else now

    async def forget(self, connection_id: int) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(ConnectionCheck).where(ConnectionCheck.connection_id == connection_id)
            )


class AlertRouteStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def get(self, team_id: str) -> str | None:
        async with self.db.session() as session:
            row = await session.get(AlertRoute, team_id)
        return row.channel_id if row else None

    async def set(self, team_id: str, channel_id: str, set_by: str) -> None:
        async with self.db.session() as session, session.begin():
            row = await session.get(AlertRoute, team_id)
            if row is None:
                session.add(
                    AlertRoute(team_id=team_id, channel_id=channel_id, set_by=set_by, set_at=self.clock())
                )
            else:
                row.channel_id, row.set_by, row.set_at = channel_id, set_by, self.clock()

    async def clear(self, team_id: str) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(delete(AlertRoute).where(AlertRoute.team_id == team_id))
        return result.rowcount == 1
