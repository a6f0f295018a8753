"""Digest subscriptions, deliveries, on-demand posts and the blocks a workspace refused (seat prices are
contracts' now: contracts.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class DigestSubscription(Base):
    """A channel that receives a workspace's usage digest on a schedule. One per (team, channel);
    subscribing again replaces the schedule and resumes a paused subscription."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_digest_subscriptions_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    channel_id: Mapped[str] = mapped_column(String(32), nullable=False)
    cadence: Mapped[str] = mapped_column(String(16), nullable=False)  # weekly | monthly
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)  # 0 = Monday (weekly only)
    send_time: Mapped[str] = mapped_column(String(5), nullable=False)  # HH:MM, local
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # active | paused
    paused_reason: Mapped[str | None] = mapped_column(String(64))
    subscriber_id: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    next_send_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_digest_subscriptions_due", DigestSubscription.status, DigestSubscription.next_send_at)


class DigestDelivery(Base):
    """One scheduled digest: (subscription, period) is the idempotency key. A replica claims the row
    (claimed_by, lease_until, attempts + 1) and renews the lease while it works; every later write is
    fenced by the claim (claimed_by and attempts in the WHERE), so a replica that lost its claim writes
    nothing. `post_started_at` is set before the post: a later attempt looks for that post in Slack
    before posting again. A claim whose lease lapsed without a ts is taken again."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "period", name="uq_digest_deliveries_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, nullable=False)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    period: Mapped[str] = mapped_column(String(32), nullable=False)  # YYYY-MM-DD..YYYY-MM-DD
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # pending|posted|refused|uncertain
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(64))
    post_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_digest_deliveries_pending", DigestDelivery.state, DigestDelivery.due_at)


class OnDemandDigest(Base):
    """The last digest `/quolum digest send` posted in a workspace (scheduled ones are on their
    subscription): where and when, for App Home."""

    __tablename__ = "on_demand_digests"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), nullable=False)
    ts: Mapped[str] = mapped_column(String(32), nullable=False)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class RefusedBlock(Base):
    """A block type a workspace's Slack refused (`invalid_blocks`): its digests are sent without it."""

    __tablename__ = "refused_blocks"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    block_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    refused_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
