"""Renewal reminders sent, and the owner's answers. Exactly once across replicas by the row's key
(team, provider, dates revision, stage): the replica whose INSERT succeeds posts. An answer is
`UPDATE … WHERE answer IS NULL` (the first stands); a snoozed reminder is taken back by clearing
`snoozed_until` where it still holds the value read (one replica reminds again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from storage.db import Database
from storage.models import ContractReminder

LATER, CANCEL = "later", "cancel"


@dataclass(frozen=True)
class Sent:
    stages: frozenset[int]
    stopped: bool  # the owner said they will cancel


@dataclass(frozen=True)
class Snoozed:
    team_id: str
    provider: str
    dates_rev: int
    stage: int
    until: datetime


class ReminderStore:
    def __init__(self, db: Database, replica_id: str, clock: Clock = utcnow) -> None:
        self.db = db
        self.replica_id = replica_id
        self.clock = clock

    async def claim(self, team_id: str, provider: str, dates_rev: int, stage: int) -> bool:
        try:
            async with self.db.session() as session, session.begin():
                session.add(
                    ContractReminder(
                        team_id=team_id,
                        provider=provider,
                        dates_rev=dates_rev,
                        stage=stage,
                        claimed_by=self.replica_id,
                        sent_at=self.clock(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def sent(self) -> dict[tuple[str, str, int], Sent]:
        """Every contract revision's reminders: the stages sent, whether the owner will cancel."""
        found: dict[tuple[str, str, int], tuple[set[int], bool]] = {}
        async with self.db.session() as session:
            rows = await session.execute(
                select(
                    ContractReminder.team_id,
                    ContractReminder.provider,
                    ContractReminder.dates_rev,
                    ContractReminder.stage,
                    ContractReminder.answer,
                )
            )
            for team, provider, rev, stage, answer in rows:
                stages, stopped = found.setdefault((team, provider, rev), (set(), False))
                stages.add(stage)
                if answer == CANCEL:
                    found[(team, provider, rev)] = (stages, True)
        return {key: Sent(frozenset(stages), stopped) for key, (stages, stopped) in found.items()}

    async def answer(
        self,
        team_id: str,
        provider: str,
        dates_rev: int,
        stage: int,
        answer: str,
        user: str,
        snoozed_until: datetime | None = None,
    ) -> bool:
        """Record the first answer to a reminder; False when it had one (or is no reminder)."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(ContractReminder)
                .where(
                    ContractReminder.team_id == team_id,
                    ContractReminder.provider == provider,
                    ContractReminder.dates_rev == dates_rev,
                    ContractReminder.stage == stage,
                    ContractReminder.answer.is_(None),
                )
                .values(answer=answer, answered_by=user, snoozed_until=snoozed_until)
            )
        return result.rowcount == 1

    async def snoozed(self, now: datetime) -> list[Snoozed]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(ContractReminder).where(ContractReminder.snoozed_until <= now)
            )
            return [Snoozed(r.team_id, r.provider, r.dates_rev, r.stage, r.snoozed_until) for r in rows]

    async def take(self, snoozed: Snoozed) -> bool:
        """Clear a snooze that fell due: True for the one replica that did."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(ContractReminder)
                .where(
                    ContractReminder.team_id == snoozed.team_id,
                    ContractReminder.provider == snoozed.provider,
                    ContractReminder.dates_rev == snoozed.dates_rev,
                    ContractReminder.stage == snoozed.stage,
                    ContractReminder.snoozed_until == snoozed.until,
                )
                .values(snoozed_until=None)
            )
        return result.rowcount == 1

    async def forget_team(self, session, team_id: str) -> None:
        await session.execute(delete(ContractReminder).where(ContractReminder.team_id == team_id))
