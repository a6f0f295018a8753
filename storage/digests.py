"""Digest subscriptions and deliveries (seat prices are the contracts': storage/contracts.py).

Deliveries are the exactly-once mechanism: a row per (subscription, period), inserted by whichever
replica first sees the subscription due (the unique key makes the others' inserts no-ops), then
claimed with a lease by one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, so
replicas take different rows of a large fan-out without waiting on each other (procrastinate's
fetch_job). SQLite has one writer: the same statement in a transaction is enough there.

Every claim increments `attempts`: that number is the claim's version, a fencing token. Each write a
claim holder makes afterwards (renewing the lease, starting the post, recording the ts, releasing,
refusing) has `claimed_by` and `attempts` in its WHERE, so once another replica re-claimed a row
whose lease lapsed, the first one's writes change nothing and tell it so (False).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.clock import Clock, utcnow
from storage.contracts import ContractStore, Price
from storage.db import Database
from storage.models import (
    DigestDelivery,
    DigestSubscription,
    OnDemandDigest,
    RefusedBlock,
    UTCDateTime,
)

ACTIVE, PAUSED = "active", "paused"
PENDING, POSTED, REFUSED, UNCERTAIN = "pending", "posted", "refused", "uncertain"


@dataclass(frozen=True)
class Subscription:
    id: int
    team_id: str
    channel_id: str
    cadence: str
    weekday: int
    send_time: str
    timezone: str
    status: str
    paused_reason: str | None
    subscriber_id: str
    created_at: datetime
    next_send_at: datetime
    last_sent_at: datetime | None


@dataclass(frozen=True)
class Sent:
    """Where and when a digest was posted (named as on a Subscription, so App Home reads both alike)."""

    channel_id: str
    last_sent_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: int
    subscription_id: int
    team_id: str
    period: str
    due_at: datetime
    late: bool
    attempts: int  # the claim's version: the fencing token of every write below
    claimed_by: str | None = None
    post_started_at: datetime | None = None  # an earlier attempt started posting: look before posting


def _subscription(row: DigestSubscription) -> Subscription:
    return Subscription(
        **{f: getattr(row, f) for f in Subscription.__dataclass_fields__}  # same names, one place
    )


class DigestStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.contracts = ContractStore(db, clock)  # whose prices digests count idle seats with

    def _insert(self):
        return sqlite_insert if self.db.is_sqlite else pg_insert

    # --- subscriptions -------------------------------------------------------------------
    async def subscribe(
        self,
        *,
        team_id: str,
        channel_id: str,
        cadence: str,
        weekday: int,
        send_time: str,
        timezone: str,
        subscriber_id: str,
        next_send_at: datetime,
    ) -> Subscription:
        """Create or replace the channel's subscription (and resume it if it was paused)."""
        values = dict(
            cadence=cadence,
            weekday=weekday,
            send_time=send_time,
            timezone=timezone,
            status=ACTIVE,
            paused_reason=None,
            subscriber_id=subscriber_id,
            next_send_at=next_send_at,
        )
        statement = self._insert()(DigestSubscription).values(
            team_id=team_id, channel_id=channel_id, created_at=self.clock(), **values
        )
        statement = statement.on_conflict_do_update(
            index_elements=["team_id", "channel_id"], set_={**values, "created_at": self.clock()}
        )
        async with self.db.session() as session, session.begin():
            await session.execute(statement)
        return await self.get(team_id, channel_id)

    async def get(self, team_id: str, channel_id: str) -> Subscription | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(DigestSubscription).where(
                    DigestSubscription.team_id == team_id, DigestSubscription.channel_id == channel_id
                )
            )
            return _subscription(row) if row else None

    async def by_id(self, subscription_id: int) -> Subscription | None:
        async with self.db.session() as session:
            row = await session.get(DigestSubscription, subscription_id)
            return _subscription(row) if row else None

    async def for_team(self, team_id: str) -> list[Subscription]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(DigestSubscription)
                .where(DigestSubscription.team_id == team_id)
                .order_by(DigestSubscription.id)
            )
            return [_subscription(r) for r in rows]

    async def unsubscribe(self, team_id: str, channel_id: str) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                delete(DigestSubscription).where(
                    DigestSubscription.team_id == team_id, DigestSubscription.channel_id == channel_id
                )
            )
            return result.rowcount > 0

    async def due(self, now: datetime, limit: int = 500) -> AsyncIterator[Subscription]:
        """Active subscriptions whose next send time has come, oldest first, streamed."""
        query = (
            select(DigestSubscription)
            .where(DigestSubscription.status == ACTIVE, DigestSubscription.next_send_at <= now)
            .order_by(DigestSubscription.next_send_at, DigestSubscription.id)
            .limit(limit)
        )
        async with self.db.session() as session:
            rows = list(await session.scalars(query))
        for row in rows:
            yield _subscription(row)

    async def advance(self, subscription_id: int, expected: datetime, next_send_at: datetime) -> None:
        """Move next_send_at on, only if no other replica did already (same value either way)."""
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(DigestSubscription)
                .where(DigestSubscription.id == subscription_id, DigestSubscription.next_send_at == expected)
                .values(next_send_at=next_send_at)
            )

    async def pause(self, subscription_id: int, reason: str) -> bool:
        """Pause; True only for the call that paused it (so the subscriber is told once)."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(DigestSubscription)
                .where(DigestSubscription.id == subscription_id, DigestSubscription.status == ACTIVE)
                .values(status=PAUSED, paused_reason=reason[:64])
            )
            return result.rowcount > 0

    async def forget_team(self, session, team_id: str) -> None:
        await session.execute(delete(DigestDelivery).where(DigestDelivery.team_id == team_id))
        await session.execute(delete(DigestSubscription).where(DigestSubscription.team_id == team_id))
        await session.execute(delete(OnDemandDigest).where(OnDemandDigest.team_id == team_id))
        await session.execute(delete(RefusedBlock).where(RefusedBlock.team_id == team_id))

    # --- deliveries ----------------------------------------------------------------------
    async def ensure_delivery(
        self, subscription: Subscription, period: str, due_at: datetime, *, late: bool
    ) -> None:
        """The (subscription, period) row, inserted once however many replicas try."""
        statement = (
            self._insert()(DigestDelivery)
            .values(
                subscription_id=subscription.id,
                team_id=subscription.team_id,
                period=period,
                due_at=due_at,
                late=late,
                state=PENDING,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "period"])
        )
        async with self.db.session() as session, session.begin():
            await session.execute(statement)

    async def claim(
        self,
        replica: str,
        now: datetime,
        lease: timedelta,
        limit: int = 20,
        lease_from: datetime | None = None,
    ) -> list[Delivery]:
        """Take up to `limit` pending deliveries nobody holds (or whose holder's lease lapsed)."""
        candidates = (
            select(DigestDelivery.id)
            .where(
                DigestDelivery.state == PENDING,
                DigestDelivery.due_at <= now,
                (DigestDelivery.lease_until.is_(None)) | (DigestDelivery.lease_until < (lease_from or now)),
            )
            .order_by(DigestDelivery.due_at, DigestDelivery.id)
            .limit(limit)
        )
        if not self.db.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(DigestDelivery)
            .where(DigestDelivery.id.in_(candidates.scalar_subquery()))
            .values(
                claimed_by=replica,
                lease_until=(lease_from or now) + lease,
                attempts=DigestDelivery.attempts + 1,
            )
            .returning(
                DigestDelivery.id,
                DigestDelivery.subscription_id,
                DigestDelivery.team_id,
                DigestDelivery.period,
                DigestDelivery.due_at,
                DigestDelivery.late,
                DigestDelivery.attempts,
                DigestDelivery.claimed_by,
                DigestDelivery.post_started_at,
            )
            .execution_options(synchronize_session=False)
        )
        async with self.db.session() as session, session.begin():
            rows = (await session.execute(statement)).all()
        return sorted((Delivery(*row) for row in rows), key=lambda d: (d.due_at, d.id))

    @staticmethod
    def _held(delivery: Delivery):
        """The fence: this row, still pending, still under the claim `delivery` was returned by."""
        return (
            (DigestDelivery.id == delivery.id)
            & (DigestDelivery.state == PENDING)
            & (DigestDelivery.claimed_by == delivery.claimed_by)
            & (DigestDelivery.attempts == delivery.attempts)
        )

    async def _fenced(self, delivery: Delivery, **values) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(DigestDelivery).where(self._held(delivery)).values(**values)
            )
            return result.rowcount > 0

    async def renew(self, delivery: Delivery, lease_until: datetime) -> bool:
        """The heartbeat: extend the lease; False once the claim is lost (re-claimed, or done)."""
        return await self._fenced(delivery, lease_until=lease_until)

    async def start_post(self, delivery: Delivery) -> bool:
        """Just before the post: record that one may exist from now on; False if the claim is lost
        (then post nothing). The first attempt's time is kept: the search for it starts there."""
        return await self._fenced(
            delivery,
            post_started_at=func.coalesce(
                DigestDelivery.post_started_at, literal(self.clock(), UTCDateTime())
            ),
        )

    async def posted(self, delivery: Delivery, channel_id: str, ts: str) -> bool:
        now = self.clock()
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(DigestDelivery)
                .where(self._held(delivery))
                .values(state=POSTED, posted_at=now, channel_id=channel_id, ts=ts, lease_until=None)
            )
            if result.rowcount == 0:
                return False  # another replica holds the claim now: its write counts, not ours
            await session.execute(
                update(DigestSubscription)
                .where(DigestSubscription.id == delivery.subscription_id)
                .values(last_sent_at=now)
            )
            return True

    async def sent_now(self, team_id: str, channel_id: str, ts: str) -> None:
        """A digest posted on demand (`/quolum digest send`) to `channel_id`: the workspace's last one
        now, and a subscribed channel's last digest too."""
        values = {"channel_id": channel_id, "ts": ts, "posted_at": self.clock()}
        statement = self._insert()(OnDemandDigest).values(team_id=team_id, **values)
        statement = statement.on_conflict_do_update(index_elements=["team_id"], set_=values)
        async with self.db.session() as session, session.begin():
            await session.execute(statement)
            await session.execute(
                update(DigestSubscription)
                .where(DigestSubscription.team_id == team_id, DigestSubscription.channel_id == channel_id)
                .values(last_sent_at=values["posted_at"])
            )

    async def last_on_demand(self, team_id: str) -> Sent | None:
        """The last digest `/quolum digest send` posted in the workspace, if any."""
        async with self.db.session() as session:
            row = await session.get(OnDemandDigest, team_id)
        return Sent(row.channel_id, row.posted_at) if row else None

    async def refused(self, delivery: Delivery, error: str) -> bool:
        return await self._fenced(delivery, state=REFUSED, error=error[:64], lease_until=None)

    async def uncertain(self, delivery: Delivery, channel_id: str, error: str) -> bool:
        """A post may exist and cannot be looked for: never posted again. True for the call that
        marked it (so the subscriber is told once)."""
        return await self._fenced(
            delivery, state=UNCERTAIN, channel_id=channel_id, error=error[:64], lease_until=None
        )

    async def release(self, delivery: Delivery, error: str, retry_at: datetime) -> bool:
        """Not posted (Slack unreachable, say): try again at `retry_at`."""
        return await self._fenced(delivery, error=error[:64], lease_until=retry_at)

    async def deliveries(self, subscription_id: int | None = None) -> list[dict]:
        query = select(DigestDelivery).order_by(DigestDelivery.id)
        if subscription_id is not None:
            query = query.where(DigestDelivery.subscription_id == subscription_id)
        async with self.db.session() as session:
            return [
                {c.name: getattr(row, c.name) for c in DigestDelivery.__table__.columns}
                for row in await session.scalars(query)
            ]

    # --- prices: the contracts' (storage/contracts.py) ---------------------------------------
    async def set_price(
        self, team_id: str, provider: str, amount_minor: int, currency: str, user: str
    ) -> None:
        await self.contracts.set_price(team_id, provider, amount_minor, currency, user)

    async def prices(self, team_id: str) -> dict[str, Price]:
        return await self.contracts.prices(team_id)

    # --- blocks a workspace's Slack refused ---------------------------------------------------
    async def refuse_block(self, team_id: str, block_type: str) -> None:
        """Remember that Slack answered `invalid_blocks` to `block_type` in this workspace (once)."""
        statement = self._insert()(RefusedBlock).values(
            team_id=team_id, block_type=block_type[:32], refused_at=self.clock()
        )
        async with self.db.session() as session, session.begin():
            await session.execute(statement.on_conflict_do_nothing(index_elements=["team_id", "block_type"]))

    async def refused_blocks(self, team_id: str) -> set[str]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(RefusedBlock.block_type).where(RefusedBlock.team_id == team_id)
            )
            return set(rows)
