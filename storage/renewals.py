"""Renewal reminders decided and posted, and the owner's answers.

A stage is decided once across replicas by its row's key (team, provider, dates revision, stage): the
replica whose INSERT succeeds also inserts, in the same transaction, one pending post per destination
(the owner's DM, the alerts channel). Posts are then delivered exactly once as digest deliveries are
(storage/digests.py): claimed with a lease by one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED) RETURNING (on SQLite, one writer: the same statement in a transaction), `attempts` + 1 as the
claim's version, and every later write fenced by (claimed_by, attempts). A transient failure sets the
lease to the retry time; a holder that died leaves a lease that lapses, and the next run takes it.

An answer is `UPDATE … WHERE answer IS NULL` (the first stands); a snoozed reminder is taken back by
clearing `snoozed_until` where it still holds the value read, and that same transaction adds its post
(`again@…`, the owner's DM), so one replica reminds again, once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.clock import Clock, utcnow
from storage.db import Database
from storage.models import ContractReminder, ContractReminderPost, UTCDateTime

LATER, CANCEL = "later", "cancel"
OWNER, CHANNEL, AGAIN = "owner", "channel", "again@"  # destinations; AGAIN + the snooze's end
PENDING, POSTED, REFUSED, UNCERTAIN = "pending", "posted", "refused", "uncertain"


@dataclass(frozen=True)
class Sent:
    stages: frozenset[int]
    stopped: bool  # the owner said they will cancel


@dataclass(frozen=True)
class Post:
    """A claimed reminder post: which reminder, where to, and the claim's version."""

    id: int
    team_id: str
    provider: str
    dates_rev: int
    stage: int
    destination: str
    attempts: int  # the claim's version: the fencing token of every write below
    claimed_by: str
    post_started_at: datetime | None  # an earlier attempt started posting: look before posting


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

    def _insert(self):
        return sqlite_insert if self.db.is_sqlite else pg_insert

    async def decide(
        self, team_id: str, provider: str, dates_rev: int, stage: int, destinations: Sequence[str]
    ) -> bool:
        """Record the stage as decided, with a pending post per destination, in one transaction: True
        for the one replica whose row it is (the others' inserts change nothing)."""
        now = self.clock()
        key = dict(team_id=team_id, provider=provider, dates_rev=dates_rev, stage=stage)
        decided = (
            self._insert()(ContractReminder)
            .values(**key, claimed_by=self.replica_id, sent_at=now)
            .on_conflict_do_nothing(index_elements=["team_id", "provider", "dates_rev", "stage"])
        )
        async with self.db.session() as session, session.begin():
            if (await session.execute(decided)).rowcount != 1:
                return False
            for destination in destinations:
                await session.execute(self._post(key, destination, now))
        return True

    def _post(self, key: dict, destination: str, now: datetime):
        return (
            self._insert()(ContractReminderPost)
            .values(**key, destination=destination, state=PENDING, attempts=0, created_at=now)
            .on_conflict_do_nothing(
                index_elements=["team_id", "provider", "dates_rev", "stage", "destination"]
            )
        )

    # --- posts: exactly once --------------------------------------------------------------------------
    async def claim(self, now: datetime, lease: timedelta, limit: int = 1) -> list[Post]:
        """Take up to `limit` pending posts nobody holds (or whose holder's lease lapsed by `now`)."""
        table = ContractReminderPost
        candidates = (
            select(table.id)
            .where(table.state == PENDING, table.lease_until.is_(None) | (table.lease_until < now))
            .order_by(table.id)
            .limit(limit)
        )
        if not self.db.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(table)
            .where(table.id.in_(candidates.scalar_subquery()))
            .values(claimed_by=self.replica_id, lease_until=now + lease, attempts=table.attempts + 1)
            .returning(
                table.id,
                table.team_id,
                table.provider,
                table.dates_rev,
                table.stage,
                table.destination,
                table.attempts,
                table.claimed_by,
                table.post_started_at,
            )
            .execution_options(synchronize_session=False)
        )
        async with self.db.session() as session, session.begin():
            rows = (await session.execute(statement)).all()
        return sorted((Post(*row) for row in rows), key=lambda p: p.id)

    async def _fenced(self, post: Post, **values) -> bool:
        """Write `values` only while `post` is still pending under the claim it was returned by."""
        table = ContractReminderPost
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(table)
                .where(
                    table.id == post.id,
                    table.state == PENDING,
                    table.claimed_by == post.claimed_by,
                    table.attempts == post.attempts,
                )
                .values(**values)
            )
            return result.rowcount > 0

    async def renew(self, post: Post, lease_until: datetime) -> bool:
        return await self._fenced(post, lease_until=lease_until)

    async def start_post(self, post: Post) -> bool:
        """Just before the post: one may exist from now on (the first attempt's time is kept)."""
        started = literal(self.clock(), UTCDateTime())
        return await self._fenced(
            post, post_started_at=func.coalesce(ContractReminderPost.post_started_at, started)
        )

    async def posted(self, post: Post, channel_id: str, ts: str) -> bool:
        return await self._fenced(
            post, state=POSTED, posted_at=self.clock(), channel_id=channel_id, ts=ts, lease_until=None
        )

    async def refused(self, post: Post, error: str) -> bool:
        return await self._fenced(post, state=REFUSED, error=error[:64], lease_until=None)

    async def uncertain(self, post: Post, channel_id: str, error: str) -> bool:
        """A post may exist and cannot be looked for: never posted again."""
        return await self._fenced(
            post, state=UNCERTAIN, channel_id=channel_id, error=error[:64], lease_until=None
        )

    async def release(self, post: Post, error: str, retry_at: datetime, *, answered: bool = False) -> bool:
        """Not posted (Slack unreachable, say): try again from `retry_at`. `answered`: Slack's answer says
        this claim's post was not made, and no earlier claim started one: the next need not look first."""
        values = {"post_started_at": None} if answered and post.post_started_at is None else {}
        return await self._fenced(post, error=error[:64], lease_until=retry_at, **values)

    async def posts(self) -> list[dict]:
        async with self.db.session() as session:
            rows = await session.scalars(select(ContractReminderPost).order_by(ContractReminderPost.id))
            return [
                {c.name: getattr(r, c.name) for c in ContractReminderPost.__table__.columns} for r in rows
            ]

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
        """Clear a snooze that fell due and add its post to the owner: True for the one replica that did."""
        key = dict(
            team_id=snoozed.team_id,
            provider=snoozed.provider,
            dates_rev=snoozed.dates_rev,
            stage=snoozed.stage,
        )
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
            if result.rowcount != 1:
                return False
            await session.execute(self._post(key, f"{AGAIN}{snoozed.until:%Y%m%dT%H%M%S}", self.clock()))
        return True

    async def forget_team(self, session, team_id: str) -> None:
        await session.execute(delete(ContractReminder).where(ContractReminder.team_id == team_id))
        await session.execute(delete(ContractReminderPost).where(ContractReminderPost.team_id == team_id))
