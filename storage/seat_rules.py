"""A workspace's rules for idle seats: exemptions, links of logins to members, the asking policy, and the
audit log of everything done about seats (SeatStore, storage/seats.py, adds asks and reclaims)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from core.clock import Clock
from core.seats import Policy
from storage.db import Database
from storage.models import SeatAudit, SeatExemption, SeatLink, SeatPolicy


@dataclass(frozen=True)
class Exemption:
    provider: str
    subject: str
    until: datetime | None
    reason: str | None
    created_by: str


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    provider: str | None
    subject: str | None
    detail: str | None


class SeatRules:
    """The rules' half of SeatStore (storage/seats.py)."""

    db: Database
    clock: Clock

    # --- exemptions and links -------------------------------------------------------------------------
    async def exempt(
        self,
        *,
        team_id: str,
        provider: str,
        subject: str,
        until: datetime | None,
        reason: str | None,
        by: str,
    ) -> None:
        subject = subject.strip().lower()
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(SeatExemption).where(
                    SeatExemption.team_id == team_id,
                    SeatExemption.provider == provider,
                    SeatExemption.subject == subject,
                )
            )
            session.add(
                SeatExemption(
                    team_id=team_id,
                    provider=provider,
                    subject=subject,
                    until=until,
                    reason=reason,
                    created_by=by,
                    created_at=self.clock(),
                )
            )

    async def unexempt(self, team_id: str, provider: str, subject: str) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                delete(SeatExemption).where(
                    SeatExemption.team_id == team_id,
                    SeatExemption.provider == provider,
                    SeatExemption.subject == subject.strip().lower(),
                )
            )
            return result.rowcount > 0

    async def exemptions(self, team_id: str) -> list[Exemption]:
        """Exemptions in force now (a *Keep* ends at its date)."""
        now = self.clock()
        async with self.db.session() as session:
            rows = await session.scalars(
                select(SeatExemption)
                .where(SeatExemption.team_id == team_id)
                .where((SeatExemption.until.is_(None)) | (SeatExemption.until > now))
                .order_by(SeatExemption.created_at)
            )
            return [Exemption(r.provider, r.subject, r.until, r.reason, r.created_by) for r in rows]

    async def link(self, team_id: str, provider: str, login: str, slack_user_id: str, by: str) -> None:
        login = login.strip().lower()
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(SeatLink).where(
                    SeatLink.team_id == team_id, SeatLink.provider == provider, SeatLink.login == login
                )
            )
            session.add(
                SeatLink(
                    team_id=team_id,
                    provider=provider,
                    login=login,
                    slack_user_id=slack_user_id,
                    linked_by=by,
                    linked_at=self.clock(),
                )
            )

    async def links(self, team_id: str) -> dict[tuple[str, str], str]:
        """(provider, login) -> Slack member."""
        async with self.db.session() as session:
            rows = await session.scalars(select(SeatLink).where(SeatLink.team_id == team_id))
            return {(r.provider, r.login): r.slack_user_id for r in rows}

    # --- policy ---------------------------------------------------------------------------------------
    async def policy(self, team_id: str) -> Policy:
        async with self.db.session() as session:
            row = await session.get(SeatPolicy, team_id)
        if row is None:
            return Policy()
        return Policy(
            row.cooldown_days,
            tuple(int(d) for d in row.reminder_days.split(",") if d),
            row.keep_days,
            frozenset(json.loads(row.reclaim_on_release or "[]")),
        )

    async def set_policy(self, team_id: str, policy: Policy, by: str) -> None:
        values = dict(
            cooldown_days=policy.cooldown_days,
            reminder_days=",".join(str(d) for d in policy.reminder_days),
            keep_days=policy.keep_days,
            reclaim_on_release=json.dumps(sorted(policy.reclaim_on_release)),
            updated_by=by,
            updated_at=self.clock(),
        )
        async with self.db.session() as session, session.begin():
            row = await session.get(SeatPolicy, team_id, with_for_update=not self.db.is_sqlite)
            if row is None:
                session.add(SeatPolicy(team_id=team_id, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)

    # --- audit ----------------------------------------------------------------------------------------
    async def record(
        self,
        team_id: str,
        actor: str,
        action: str,
        *,
        provider: str | None = None,
        subject: str | None = None,
        detail: str | None = None,
    ) -> None:
        async with self.db.session() as session, session.begin():
            session.add(
                SeatAudit(
                    team_id=team_id,
                    at=self.clock(),
                    actor=actor,
                    action=action,
                    provider=provider,
                    subject=(subject or "")[:255] or None,
                    detail=detail,
                )
            )

    async def audit(
        self, team_id: str, since: datetime | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The audit log, newest first."""
        query = select(SeatAudit).where(SeatAudit.team_id == team_id)
        if since is not None:
            query = query.where(SeatAudit.at >= since)
        query = query.order_by(SeatAudit.at.desc(), SeatAudit.id.desc())
        if limit:
            query = query.limit(limit)
        async with self.db.session() as session:
            rows = await session.scalars(query)
            return [AuditEntry(r.at, r.actor, r.action, r.provider, r.subject, r.detail) for r in rows]

    async def count(self, team_id: str) -> int:
        async with self.db.session() as session:
            return await session.scalar(
                select(func.count()).select_from(SeatAudit).where(SeatAudit.team_id == team_id)
            )
