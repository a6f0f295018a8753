"""The storage facade handed to handlers: one object, one repository per concern."""

from __future__ import annotations

import logging

from sqlalchemy import delete

from core.clock import Clock, utcnow
from storage.claims import Claims
from storage.connections import AdminStore, ConnectionStore
from storage.contracts import ContractStore
from storage.crypto import Encryptor
from storage.db import Database
from storage.digests import DigestStore
from storage.incidents import AlertRouteStore, CheckStore, IncidentStore
from storage.installations import EncryptedInstallationStore
from storage.invitations import InvitationStore
from storage.issued_tokens import IssuedTokenStore
from storage.models import OAuthState
from storage.renewals import ReminderStore
from storage.seats import SeatStore
from storage.states import StateStore
from storage.usage import SnapshotStore

log = logging.getLogger("quolum.storage")


class Storage:
    def __init__(self, db: Database, encryptor: Encryptor, *, replica_id: str, clock: Clock = utcnow) -> None:
        self.db = db
        self.encryptor = encryptor
        self.clock = clock
        self.installations = EncryptedInstallationStore(db, encryptor)
        self.states = StateStore(db, encryptor, clock)
        self.claims = Claims(db, replica_id, clock)
        self.connections = ConnectionStore(db, encryptor, clock)
        self.admins = AdminStore(db, clock)
        self.invitations = InvitationStore(db, clock)
        self.snapshots = SnapshotStore(db)
        self.digests = DigestStore(db, clock)
        self.incidents = IncidentStore(db, clock)
        self.checks = CheckStore(db, clock)
        self.alert_routes = AlertRouteStore(db, clock)
        self.issued_tokens = IssuedTokenStore(db, encryptor, clock)  # between OAuth exchange and save
        self.seats = SeatStore(db, clock)  # asks, reclaims, exemptions, the audit log
        self.contracts = ContractStore(db, clock)  # seats bought, prices, renewal dates
        self.reminders = ReminderStore(db, replica_id, clock)  # renewal reminders sent, answers

    async def forget_workspace(self, enterprise_id: str | None, team_id: str | None) -> None:
        """The app was uninstalled or its tokens revoked: drop the workspace's Slack tokens,
        every provider connection it has and its pending OAuth states."""
        if team_id:
            async with self.db.session() as session, session.begin():
                await session.execute(delete(OAuthState).where(OAuthState.team_id == team_id))
                await self.incidents.forget_team(session, team_id)
                await self.connections.forget_team(session, team_id)
                await self.invitations.forget_team(session, team_id)
                await self.snapshots.forget_team(session, team_id)
                await self.digests.forget_team(session, team_id)
                await self.seats.forget_team(session, team_id)
                await self.contracts.forget_team(session, team_id)
                await self.reminders.forget_team(session, team_id)
        # the Slack tokens last: once they are gone, everything else of the workspace is gone too
        await self.installations.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        log.info("forgot workspace team=%s enterprise=%s", team_id, enterprise_id)
