"""Usage snapshots. Saving is an upsert on (team, provider, account, period): collecting the same
period again replaces its snapshot, on every replica, without a read-modify-write race."""

from __future__ import annotations

import logging

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.reports import UsageReport
from storage.db import Database
from storage.models import UsageSnapshot

log = logging.getLogger("quolum.snapshots")

KEY = ["team_id", "provider", "account_id", "period_start", "period_end"]


def _read(text: str) -> UsageReport | None:
    """The stored report, or None (logged) when it is not one: recollected rather than shown wrong."""
    try:
        return UsageReport.from_json(text)
    except msgspec.DecodeError as error:  # ValidationError included
        log.warning("a stored usage snapshot is not a report and is ignored: %s", error)
        return None


class SnapshotStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, report: UsageReport) -> None:
        """Stored as the report's JSON (`core.reports` documents it)."""
        values = {
            "team_id": report.team_id,
            "provider": report.provider,
            "account_id": report.account.id,
            "period_start": report.period.start.isoformat(),
            "period_end": report.period.end.isoformat(),
            "timezone": report.period.timezone,
            "collected_at": report.collected_at,
            "report": report.encode().decode(),
        }
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        statement = insert(UsageSnapshot).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=KEY,
            set_={k: statement.excluded[k] for k in ("timezone", "collected_at", "report")},
        )
        async with self.db.session() as session, session.begin():
            await session.execute(statement)

    async def history(self, team_id: str, provider: str, limit: int = 12) -> list[UsageReport]:
        """The latest snapshots, newest period first (for trends)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(UsageSnapshot.report)
                .where(UsageSnapshot.team_id == team_id, UsageSnapshot.provider == provider)
                .order_by(UsageSnapshot.period_end.desc(), UsageSnapshot.period_start.desc())
                .limit(limit)
            )
            return [report for r in rows if (report := _read(r)) is not None]

    async def between(self, team_id: str, first: str, last: str) -> list[UsageReport]:
        """Every snapshot of the workspace whose period lies within `first`..`last` (ISO dates,
        inclusive), by provider, then account, then period."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(UsageSnapshot.report)
                .where(
                    UsageSnapshot.team_id == team_id,
                    UsageSnapshot.period_start >= first,
                    UsageSnapshot.period_end <= last,
                )
                .order_by(
                    UsageSnapshot.provider,
                    UsageSnapshot.account_id,
                    UsageSnapshot.period_start,
                    UsageSnapshot.period_end,
                )
            )
            return [report for r in rows if (report := _read(r)) is not None]

    async def get(
        self, team_id: str, provider: str, account_id: str, start: str, end: str
    ) -> UsageReport | None:
        """The snapshot of exactly this period, if one was stored."""
        async with self.db.session() as session:
            text = await session.scalar(
                select(UsageSnapshot.report).where(
                    UsageSnapshot.team_id == team_id,
                    UsageSnapshot.provider == provider,
                    UsageSnapshot.account_id == account_id,
                    UsageSnapshot.period_start == start,
                    UsageSnapshot.period_end == end,
                )
            )
            return _read(text) if text else None

    async def forget_team(self, session, team_id: str) -> None:
        await session.execute(delete(UsageSnapshot).where(UsageSnapshot.team_id == team_id))
