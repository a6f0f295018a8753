"""Acting on idle seats: asks, reclaims, exemptions, links, the workspace's policy and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class SeatAskBatch(Base):
    """One admin's *Ask* of several people: the summary DM updated in place as answers come in."""

    __tablename__ = "seat_ask_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    asked_by: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str | None] = mapped_column(String(32))  # the admin's DM with the summary
    ts: Mapped[str | None] = mapped_column(String(32))


class SeatAsk(Base):
    """A person asked *Keep* or *Release* about one seat. One per (connection, user, round): a new
    round only after the cooldown, so replicas racing to ask insert the same key and one wins."""

    __tablename__ = "seat_asks"
    __table_args__ = (UniqueConstraint("connection_id", "user_id", "round", name="uq_seat_asks_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    connection_id: Mapped[int] = mapped_column(Integer, nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)  # the provider's id of the person
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    seat: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: the idle seat as the report named it
    slack_user_id: Mapped[str] = mapped_column(String(32), nullable=False)
    batch_id: Mapped[int] = mapped_column(Integer, nullable=False)
    asked_by: Mapped[str] = mapped_column(String(32), nullable=False)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reminders: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    answer: Mapped[str | None] = mapped_column(String(16))  # keep | release | none (no answer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


Index("ix_seat_asks_open", SeatAsk.answer, SeatAsk.asked_at)


class SeatReclaim(Base):
    """A paid seat given back through the provider. One per (connection, user, round): clicks, retries
    and replicas insert the same key; only the replica whose UPDATE moved it to `running` calls the
    provider. A round closes when it did not take the seat (refused, gone…) or was undone."""

    __tablename__ = "seat_reclaims"
    __table_args__ = (UniqueConstraint("connection_id", "user_id", "round", name="uq_seat_reclaims_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    connection_id: Mapped[int] = mapped_column(Integer, nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    seat: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: the idle seat
    requested_by: Mapped[str] = mapped_column(String(32), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # pending|running|<SeatOutcome>|undone
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sentence: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)  # the provider's answer, for the audit
    undo: Mapped[str | None] = mapped_column(Text)  # JSON: what the undo hook needs
    effective: Mapped[str | None] = mapped_column(String(10))  # ISO date the seat really goes
    monthly_minor: Mapped[int | None] = mapped_column(Integer)  # the seat's price when reclaimed
    currency: Mapped[str | None] = mapped_column(String(3))
    saves: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(32))


Index("ix_seat_reclaims_team", SeatReclaim.team_id, SeatReclaim.state)


class SeatExemption(Base):
    """A seat never reclaimed nor asked about: a person (email or provider id) for one provider ('' all),
    until a date (a *Keep*) or for good (`/quolum seats exempt`)."""

    __tablename__ = "seat_exemptions"
    __table_args__ = (UniqueConstraint("team_id", "provider", "subject", name="uq_seat_exemptions_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)  # '' : every provider
    subject: Mapped[str] = mapped_column(String(255), nullable=False)  # lower-case email or provider id
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: for good
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SeatLink(Base):
    """A provider login an admin tied to a Slack member (`/quolum seats link`), when emails do not match."""

    __tablename__ = "seat_links"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    login: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower-case
    slack_user_id: Mapped[str] = mapped_column(String(32), nullable=False)
    linked_by: Mapped[str] = mapped_column(String(32), nullable=False)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SeatPolicy(Base):
    """A workspace's rules for asking: cooldown, reminders, how long a *Keep* lasts; per connection,
    whether a *Release* reclaims at once (`reclaim_on_release`, a JSON list of connection ids)."""

    __tablename__ = "seat_policies"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cooldown_days: Mapped[int] = mapped_column(Integer, nullable=False)
    reminder_days: Mapped[str] = mapped_column(String(32), nullable=False)  # "3,7"
    keep_days: Mapped[int] = mapped_column(Integer, nullable=False)
    reclaim_on_release: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    updated_by: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SeatAudit(Base):
    """Every ask, reminder, answer, reclaim, undo, refusal and exemption: who, what, when, the answer."""

    __tablename__ = "seat_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(32), nullable=False)  # a Slack user id, or "quolum"
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(255))  # "Name <email>" of the seat's holder
    detail: Mapped[str | None] = mapped_column(Text)  # the provider's answer, a reason


Index("ix_seat_audit_team_at", SeatAudit.team_id, SeatAudit.at)
