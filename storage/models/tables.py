"""Workspaces, connections, invitations, usage, incidents and alert routes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class SlackInstallation(Base):
    """One row per workspace (or org): the latest bot installation, encrypted whole."""

    __tablename__ = "slack_installations"
    __table_args__ = (
        UniqueConstraint("enterprise_key", "team_key", name="uq_slack_installations_workspace"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # '' instead of NULL so the unique constraint holds on every backend
    enterprise_key: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    team_key: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    installer_user_id: Mapped[str | None] = mapped_column(String(32))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    data_enc: Mapped[str] = mapped_column(Text, nullable=False)


class OAuthState(Base):
    """Single-use, expiring OAuth `state` values (Slack install and provider connect).

    Only a SHA-256 of the state is stored; what it is bound to (and the Slack
    response_url, a capability URL) is encrypted in `payload_enc`.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    provider: Mapped[str | None] = mapped_column(String(32))
    payload_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the random value in the browser cookie of whoever opened the link first
    browser_hash: Mapped[str | None] = mapped_column(String(64))


class JobClaim(Base):
    """A scheduled job's run, claimed by exactly one replica through the unique key."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_job_claims_job_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64), nullable=False)
    slot: Mapped[str] = mapped_column(String(64), nullable=False)
    claimed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))


class SlackEvent(Base):
    """Event ids already handled, so Slack's retries of an event are processed once."""

    __tablename__ = "slack_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


Index("ix_slack_events_received_at", SlackEvent.received_at)


class Connection(Base):
    """A workspace's connection to one provider account. One row per (team, provider), kept across
    reconnects and disconnects so its history stays; `credentials_enc` is NULL once disconnected."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("team_id", "provider", name="uq_connections_team_provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(
        String(32), nullable=False
    )  # connected | needs_reconnect | disconnected
    status_reason: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(64))
    account_name: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)  # JSON: time zone, currency, hosting, installer...
    scopes: Mapped[str | None] = mapped_column(Text)  # JSON list of granted scopes
    unavailable: Mapped[str | None] = mapped_column(Text)  # JSON list of features unavailable (scopes)
    credentials_enc: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_lifetime: Mapped[int | None] = mapped_column(Integer)  # seconds, from expires_in
    connected_by: Mapped[str | None] = mapped_column(String(32))
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disconnected_by: Mapped[str | None] = mapped_column(String(32))
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ConnectionEvent(Base):
    """What happened to a connection, and who did it: its history."""

    __tablename__ = "connection_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class WorkspaceAdmin(Base):
    """Members a Slack admin granted Quolum admin rights (connect, disconnect) to."""

    __tablename__ = "workspace_admins"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(32), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Invitation(Base):
    """A member asked someone (a provider's admin) to connect that provider. Its id goes in the DM's
    buttons, so it is random rather than sequential."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    inviter_id: Mapped[str] = mapped_column(String(32), nullable=False)
    invitee_id: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # open | accepted | declined | expired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))


Index(
    "ix_invitations_invitee",
    Invitation.team_id,
    Invitation.invitee_id,
    Invitation.provider,
    Invitation.status,
)
Index("ix_invitations_inviter", Invitation.team_id, Invitation.inviter_id, Invitation.created_at)
Index("ix_invitations_status_expires", Invitation.status, Invitation.expires_at)
# At most one open invitation per invitee and provider: two identical invites racing insert one row.
Index(
    "uq_invitations_open",
    Invitation.team_id,
    Invitation.invitee_id,
    Invitation.provider,
    unique=True,
    sqlite_where=Invitation.status == "open",
    postgresql_where=Invitation.status == "open",
)


class InvitationSender(Base):
    """One row per member who has sent an invitation: locked (INSERT ... ON CONFLICT DO UPDATE) for
    the length of the transaction that counts their recent invitations and inserts the next, so
    concurrent invites by one member cannot all pass the daily limit."""

    __tablename__ = "invitation_senders"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inviter_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_reserved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class UsageSnapshot(Base):
    """One connection's usage report for one period: aggregates and the ids needed to name inactive
    users, never raw records. Re-collecting the same period replaces it (the unique key)."""

    __tablename__ = "usage_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "team_id",
            "provider",
            "account_id",
            "period_start",
            "period_end",
            name="uq_usage_snapshots_period",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    account_id: Mapped[str] = mapped_column(String(64), nullable=False)
    period_start: Mapped[str] = mapped_column(String(10), nullable=False)  # ISO date, inclusive
    period_end: Mapped[str] = mapped_column(String(10), nullable=False)  # ISO date, inclusive
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    report: Mapped[str] = mapped_column(Text, nullable=False)  # UsageReport.to_json()


Index("ix_usage_snapshots_trend", UsageSnapshot.team_id, UsageSnapshot.provider, UsageSnapshot.period_end)


class Incident(Base):
    """A connection that stopped working, from the first failing check until it works again. Its alert
    is one Slack message (`channel`, `ts`), posted once and updated in place; a later failure is a new
    row with the next `number`, so the unique key makes a second "open" fail harmlessly. `subject` says
    what it is about: 'access' (the connection fails) or 'seats' (free seats ran out); each subject
    numbers its own, so a connection can have one open of each."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("connection_id", "subject", "number", name="uq_incidents_connection_subject_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'access'")
    )  # access|seats
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(
        String(32), nullable=False
    )  # revoked|scope_lost|transient|configuration
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    feature: Mapped[str | None] = mapped_column(String(64))  # scope_lost: the scope that stopped working
    failing_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(32))  # who reconnected; NULL: it recovered


Index("ix_incidents_open", Incident.team_id, Incident.resolved_at)


class ConnectionCheck(Base):
    """The latest health of a connection: when it was last checked and since when it has failed."""

    __tablename__ = "connection_checks"

    connection_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NULL while it works


class AlertRoute(Base):
    """Where a workspace's alerts go (`/quolum alerts #channel`); no row: the default."""

    __tablename__ = "alert_routes"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), nullable=False)
    set_by: Mapped[str] = mapped_column(String(32), nullable=False)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class IssuedToken(Base):
    """Provider tokens issued to an OAuth callback and not yet stored with their connection.

    Written (encrypted) right after the code exchange, deleted in the same transaction that stores
    the connection. A row still here later means the callback died in between (a crash, a kill -9):
    housekeeping revokes the tokens at the provider and deletes the row.
    """

    __tablename__ = "issued_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    team_id: Mapped[str | None] = mapped_column(String(32))
    credentials_enc: Mapped[str] = mapped_column(Text, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
