"""Run-once coordination between replicas through the database's unique keys.

A job that must happen once per slot (say, the digest of week 48 for team T)
inserts (job, slot); the replica whose INSERT succeeds runs it, the others get
an IntegrityError and skip. No locks are held while the job runs.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from storage.db import Database
from storage.models import JobClaim, SlackEvent


class Claims:
    def __init__(self, db: Database, replica_id: str, clock: Clock = utcnow) -> None:
        self.db = db
        self.replica_id = replica_id
        self.clock = clock

    async def claim(self, job: str, slot: str) -> bool:
        try:
            async with self.db.session() as session, session.begin():
                session.add(JobClaim(job=job, slot=slot, claimed_by=self.replica_id, claimed_at=self.clock()))
        except IntegrityError:
            return False
        return True

    async def finish(self, job: str, slot: str, outcome: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(JobClaim)
                .where(JobClaim.job == job, JobClaim.slot == slot, JobClaim.claimed_by == self.replica_id)
                .values(finished_at=self.clock(), outcome=outcome[:32])
            )

    async def first_delivery(self, event_id: str, team_id: str | None) -> bool:
        """True the first time an Events API event id is seen (Slack retries un-acked events)."""
        try:
            async with self.db.session() as session, session.begin():
                session.add(SlackEvent(event_id=event_id, team_id=team_id, received_at=self.clock()))
        except IntegrityError:
            return False
        return True

    async def last_runs(self) -> dict[str, JobClaim]:
        """Each job's latest recorded run (by claim time)."""
        from sqlalchemy import func, select

        async with self.db.session() as session:
            latest = (
                select(JobClaim.job, func.max(JobClaim.claimed_at).label("at"))
                .group_by(JobClaim.job)
                .subquery()
            )
            rows = await session.scalars(
                select(JobClaim).join(
                    latest, (JobClaim.job == latest.c.job) & (JobClaim.claimed_at == latest.c.at)
                )
            )
            return {row.job: row for row in rows}
