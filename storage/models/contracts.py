"""Contracts: what a workspace bought from a provider and when it renews; its contract settings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ContractRow(Base):
    """One workspace's contract with one provider (core/contracts.py). `/quolum price` sets only its price.
    `dates_rev` counts changes of its dates: renewal reminders are claimed per revision, so new dates
    start the reminders afresh."""

    __tablename__ = "contracts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    seats: Mapped[int | None] = mapped_column(Integer)
    price_minor: Mapped[int | None] = mapped_column(Integer)  # one seat per period, minor units
    period: Mapped[str | None] = mapped_column(String(8))  # month | year
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_on: Mapped[date | None] = mapped_column(Date)
    renews_on: Mapped[date | None] = mapped_column(Date)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    auto_renews: Mapped[bool | None] = mapped_column(Boolean)
    owner: Mapped[str | None] = mapped_column(String(32))
    dates_rev: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ContractSettings(Base):
    """A workspace's locale for amounts (`de-DE`), the days before a notice deadline its renewal
    reminders go out ("90,60,30,14,7"), and the IANA timezone whose days they count (None: the
    workspace's digest subscription's, else UTC)."""

    __tablename__ = "contract_settings"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    reminder_days: Mapped[str] = mapped_column(String(64), nullable=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    reminder_hour: Mapped[int | None] = mapped_column(Integer)  # local hour from which they go out; None: 9
    updated_by: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ContractReminder(Base):
    """One renewal reminder: (team, provider, dates revision, stage). The row says the stage is decided
    (inserted once, with a ContractReminderPost per destination in the same transaction; rows older
    than those posts were sent); stage 0 says the notice deadline passed. The owner's answer is the
    first one (`answer`: later | cancel); *Remind me later* sets `snoozed_until`, and one replica
    clears it (compare-and-set) to remind again."""

    __tablename__ = "contract_reminders"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    dates_rev: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_by: Mapped[str | None] = mapped_column(String(32))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContractReminderPost(Base):
    """One destination of a renewal reminder (`owner`, `channel`, or `again@<snoozed until>` for *Remind
    me later*), posted exactly once as digest deliveries are: claimed with a lease (claimed_by,
    lease_until, attempts + 1), every later write fenced by (claimed_by, attempts); `post_started_at`
    set before the post, so a later attempt looks for it in Slack first. A transient failure sets
    lease_until to the retry time. state: pending | posted | refused | uncertain."""

    __tablename__ = "contract_reminder_posts"
    __table_args__ = (
        UniqueConstraint(
            "team_id", "provider", "dates_rev", "stage", "destination", name="uq_contract_reminder_posts_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    dates_rev: Mapped[int] = mapped_column(Integer, nullable=False)
    stage: Mapped[int] = mapped_column(Integer, nullable=False)
    destination: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    post_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


Index("ix_contract_reminder_posts_pending", ContractReminderPost.state, ContractReminderPost.lease_until)
