"""Asks, reclaims, exemptions, links, the workspace's policy and the audit log of acting on idle seats.

Exactly once across replicas, by unique keys and compare-and-set updates (no locks held while Slack
or a provider is called):
- an ask is the row (connection, user, round); the next round only after the cooldown, so two replicas
  (or two clicks) asking at once insert the same key and one of them wins;
- a reminder is `UPDATE … SET reminders = n + 1 WHERE reminders = n AND answer IS NULL`: one replica
  moves it, and only that one posts;
- an answer is `UPDATE … WHERE answer IS NULL`: the first answer stands;
- a reclaim is the row (connection, user, round); the provider is called only by the replica whose
  `UPDATE … SET state = 'running' WHERE state = 'pending'` changed it (the claim), and only that replica
  records the result (`claimed_by` in the WHERE: its fence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from core.reports import InactiveSeat
from core.seats import ALL_PROVIDERS, KEEP, NO_ANSWER, RELEASE, Policy, SeatOutcome, SeatResult  # noqa: F401
from storage.db import Database
from storage.models import (
    SeatAsk,
    SeatAskBatch,
    SeatAudit,
    SeatExemption,
    SeatLink,
    SeatPolicy,
    SeatReclaim,
)
from storage.seat_rules import AuditEntry, Exemption, SeatRules  # noqa: F401  (the store's records)

PENDING, RUNNING, UNDONE = "pending", "running", "undone"
OPEN_RECLAIMS = (PENDING, RUNNING, SeatOutcome.DONE.value)  # a new round only once the last one closed


def seat_json(seat: InactiveSeat) -> str:
    return msgspec.json.encode(seat).decode()


def seat_of(text: str) -> InactiveSeat:
    return msgspec.json.decode(text, type=InactiveSeat)


@dataclass(frozen=True)
class Ask:
    id: int
    team_id: str
    connection_id: int
    provider: str
    user_id: str
    round: int
    seat: InactiveSeat
    slack_user_id: str
    batch_id: int
    asked_by: str
    asked_at: datetime
    reminders: int
    reminded_at: datetime | None
    dm_channel: str | None
    dm_ts: str | None
    answer: str | None
    answered_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class Reclaim:
    id: int
    team_id: str
    connection_id: int
    provider: str
    user_id: str
    round: int
    seat: InactiveSeat
    requested_by: str
    requested_at: datetime
    state: str
    sentence: str | None
    answer: str | None
    undo: dict = field(default_factory=dict)
    effective: str | None = None
    monthly_minor: int | None = None
    currency: str | None = None
    saves: bool = True
    done_at: datetime | None = None
    undone_at: datetime | None = None


def _ask(row: SeatAsk) -> Ask:
    values = {f: getattr(row, f) for f in Ask.__dataclass_fields__ if f != "seat"}
    return Ask(**values, seat=seat_of(row.seat))


def _reclaim(row: SeatReclaim) -> Reclaim:
    values = {f: getattr(row, f) for f in Reclaim.__dataclass_fields__ if f not in ("seat", "undo")}
    return Reclaim(**values, seat=seat_of(row.seat), undo=json.loads(row.undo or "{}"))


class SeatStore(SeatRules):
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    # --- asks ---------------------------------------------------------------------------------------
    async def latest_ask(self, connection_id: int, user_id: str) -> Ask | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(SeatAsk)
                .where(SeatAsk.connection_id == connection_id, SeatAsk.user_id == user_id)
                .order_by(SeatAsk.round.desc())
                .limit(1)
            )
            return _ask(row) if row else None

    async def latest_asks(self, team_id: str) -> dict[tuple[int, str], Ask]:
        """(connection, user) -> the latest ask, for the seats view."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(SeatAsk).where(SeatAsk.team_id == team_id).order_by(SeatAsk.round)
            )
            return {(row.connection_id, row.user_id): _ask(row) for row in rows}

    async def new_batch(self, team_id: str, asked_by: str) -> int:
        async with self.db.session() as session, session.begin():
            row = SeatAskBatch(team_id=team_id, asked_by=asked_by, created_at=self.clock())
            session.add(row)
            await session.flush()
            return row.id

    async def batch_message(self, batch_id: int) -> tuple[str | None, str | None, str]:
        """(channel, ts, asked_by) of a batch's summary."""
        async with self.db.session() as session:
            row = await session.get(SeatAskBatch, batch_id)
            return row.channel, row.ts, row.asked_by

    async def set_batch_message(self, batch_id: int, channel: str, ts: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(SeatAskBatch).where(SeatAskBatch.id == batch_id).values(channel=channel, ts=ts)
            )

    async def batch_asks(self, batch_id: int) -> list[Ask]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(SeatAsk).where(SeatAsk.batch_id == batch_id).order_by(SeatAsk.id)
            )
            return [_ask(row) for row in rows]

    async def ask(
        self,
        *,
        team_id: str,
        connection_id: int,
        provider: str,
        seat: InactiveSeat,
        round: int,
        slack_user_id: str,
        batch_id: int,
        asked_by: str,
    ) -> Ask | None:
        """The new ask, or None when this round exists already (another click or replica asked)."""
        row = SeatAsk(
            team_id=team_id,
            connection_id=connection_id,
            provider=provider,
            user_id=seat.user_id,
            round=round,
            seat=seat_json(seat),
            slack_user_id=slack_user_id,
            batch_id=batch_id,
            asked_by=asked_by,
            asked_at=self.clock(),
            reminders=0,
        )
        try:
            async with self.db.session() as session, session.begin():
                session.add(row)
                await session.flush()
                return _ask(row)
        except IntegrityError:
            return None

    async def get_ask(self, ask_id: int) -> Ask | None:
        async with self.db.session() as session:
            row = await session.get(SeatAsk, ask_id)
            return _ask(row) if row else None

    async def set_dm(self, ask_id: int, channel: str, ts: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(SeatAsk).where(SeatAsk.id == ask_id).values(dm_channel=channel, dm_ts=ts)
            )

    async def answer(self, ask_id: int, answer: str, reason: str | None = None) -> bool:
        """Record the first answer; False when the ask was answered (or given up on) already."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(SeatAsk)
                .where(SeatAsk.id == ask_id, SeatAsk.answer.is_(None))
                .values(answer=answer, answered_at=self.clock(), reason=reason)
            )
            return result.rowcount == 1

    async def unanswered(self, asked_before: datetime) -> list[Ask]:
        """Asks without an answer asked before `asked_before` (the reminder job's candidates)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(SeatAsk)
                .where(SeatAsk.answer.is_(None), SeatAsk.asked_at <= asked_before)
                .order_by(SeatAsk.asked_at)
            )
            return [_ask(row) for row in rows]

    async def remind(self, ask_id: int, sent: int) -> bool:
        """Count reminder `sent + 1`; True for the one replica that moved it (it posts)."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(SeatAsk)
                .where(SeatAsk.id == ask_id, SeatAsk.reminders == sent, SeatAsk.answer.is_(None))
                .values(reminders=sent + 1, reminded_at=self.clock())
            )
            return result.rowcount == 1

    # --- reclaims -----------------------------------------------------------------------------------
    async def latest_reclaim(self, connection_id: int, user_id: str) -> Reclaim | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(SeatReclaim)
                .where(SeatReclaim.connection_id == connection_id, SeatReclaim.user_id == user_id)
                .order_by(SeatReclaim.round.desc())
                .limit(1)
            )
            return _reclaim(row) if row else None

    async def latest_reclaims(self, team_id: str) -> dict[tuple[int, str], Reclaim]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(SeatReclaim).where(SeatReclaim.team_id == team_id).order_by(SeatReclaim.round)
            )
            return {(row.connection_id, row.user_id): _reclaim(row) for row in rows}

    async def get_reclaim(self, reclaim_id: int) -> Reclaim | None:
        async with self.db.session() as session:
            row = await session.get(SeatReclaim, reclaim_id)
            return _reclaim(row) if row else None

    async def request_reclaim(
        self,
        *,
        team_id: str,
        connection_id: int,
        provider: str,
        seat: InactiveSeat,
        requested_by: str,
        monthly_minor: int | None,
        currency: str | None,
        saves: bool,
    ) -> tuple[Reclaim, bool]:
        """(the seat's open reclaim, whether this call made it): a second click, a retry or another
        replica gets the same row back and False."""
        for _ in range(3):
            latest = await self.latest_reclaim(connection_id, seat.user_id)
            if latest is not None and latest.state in OPEN_RECLAIMS:
                return latest, False
            row = SeatReclaim(
                team_id=team_id,
                connection_id=connection_id,
                provider=provider,
                user_id=seat.user_id,
                round=(latest.round + 1) if latest else 1,
                seat=seat_json(seat),
                requested_by=requested_by,
                requested_at=self.clock(),
                state=PENDING,
                monthly_minor=monthly_minor,
                currency=currency,
                saves=saves,
            )
            try:
                async with self.db.session() as session, session.begin():
                    session.add(row)
                    await session.flush()
                    return _reclaim(row), True
            except IntegrityError:
                continue  # someone else made this round: read it
        raise RuntimeError("could not settle the seat's reclaim round")

    async def start(self, reclaim_id: int, replica: str, *, from_state: str = PENDING) -> bool:
        """Claim the reclaim (or its undo, from `done`): True for the one replica that may call the provider."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(SeatReclaim)
                .where(SeatReclaim.id == reclaim_id, SeatReclaim.state == from_state)
                .values(state=RUNNING, claimed_by=replica)
            )
            return result.rowcount == 1

    async def finish(self, reclaim_id: int, replica: str, result: SeatResult) -> bool:
        """Record the provider's answer (only the claim's holder can)."""
        values = dict(
            state=result.outcome.value,
            sentence=result.sentence,
            answer=result.answer,
            undo=json.dumps(dict(result.undo)) if result.undo else None,
            effective=result.effective.isoformat() if result.effective else None,
        )
        if result.done:
            values["done_at"] = self.clock()
        return await self._fenced(reclaim_id, replica, values)

    async def finish_undo(self, reclaim_id: int, replica: str, result: SeatResult, by: str) -> bool:
        """An undo's answer: `undone` when the provider gave the seat back, else `done` again."""
        if result.done:
            values = dict(state=UNDONE, undone_at=self.clock(), undone_by=by, answer=result.answer)
        else:
            values = dict(state=SeatOutcome.DONE.value)
        return await self._fenced(reclaim_id, replica, values)

    async def _fenced(self, reclaim_id: int, replica: str, values: dict) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(SeatReclaim)
                .where(
                    SeatReclaim.id == reclaim_id,
                    SeatReclaim.state == RUNNING,
                    SeatReclaim.claimed_by == replica,
                )
                .values(**values)
            )
            return result.rowcount == 1

    async def reclaimed(self, team_id: str) -> list[Reclaim]:
        """Seats given back and not undone, oldest first (the savings ledger)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(SeatReclaim)
                .where(SeatReclaim.team_id == team_id, SeatReclaim.state == SeatOutcome.DONE.value)
                .order_by(SeatReclaim.done_at)
            )
            return [_reclaim(row) for row in rows]

    async def forget_team(self, session, team_id: str) -> None:
        for table in (SeatAsk, SeatAskBatch, SeatReclaim, SeatExemption, SeatLink, SeatPolicy, SeatAudit):
            await session.execute(delete(table).where(table.team_id == team_id))
