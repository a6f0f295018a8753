"""Seats running out (issue 26, item 3): one alert per incident, resolved when seats are freed or bought.

It is the reconnect alerts' incident machinery with the subject SEATS (storage/incidents.py): the
replica whose INSERT wins the unique key (connection, subject, number) posts the one alert, where
alerts go (services/alerts.py); a later check that is still low only updates that message in place
when its numbers changed; enough free seats resolve it and rewrite it to *Resolved*. Running low again
afterwards is a new incident.

`check(connection, report)` runs after every stored report (services/usage.py `_stored`, which both
`usage collect` and the digests' collection pass); `on_contract_saved(team_id, provider)` runs after a
contract is saved (services/contracts.py) and checks the latest stored report against the new number.
"""

from __future__ import annotations

import logging

from core.clock import Clock
from core.free_seats import free_seats, running_out
from core.reports import UsageReport
from messages import seat_alerts as msg
from services.alerts import AlertsService
from storage.connections import ConnectionRecord
from storage.incidents import SEATS, IncidentRecord
from storage.store import Storage

log = logging.getLogger("quolum.seat_alerts")

KIND = "seats"


class SeatAlertsService:
    def __init__(self, *, storage: Storage, alerts: AlertsService, clock: Clock) -> None:
        self.storage = storage
        self.alerts = alerts
        self.incidents = alerts.incidents
        self.clock = clock

    async def check(self, connection: ConnectionRecord, report: UsageReport) -> IncidentRecord | None:
        """Compare the report's assigned seats with the contract: open, update or resolve. Returns the
        open seats incident, or None when none is open after this check."""
        stored = await self.storage.contracts.get(connection.team_id, connection.provider)
        bought = stored.contract.seats if stored else None
        assigned = report.seats.paid_seats
        if running_out(bought, assigned):
            return await self._low(connection, self._view(connection, bought, assigned))
        await self._enough(connection, bought, assigned)
        return None

    async def on_contract_saved(self, team_id: str, provider: str) -> None:
        """A contract changed (more seats bought, say): check the latest report against it."""
        connection = await self.storage.connections.get(team_id, provider)
        if connection is None:
            return
        latest = await self.storage.snapshots.history(team_id, provider, limit=1)
        if latest:
            await self.check(connection, latest[0])

    async def _low(self, connection: ConnectionRecord, view: msg.SeatsView) -> IncidentRecord:
        reason = msg.reason(view)
        incident, opened = await self.incidents.open(
            connection_id=connection.id,
            team_id=connection.team_id,
            provider=connection.provider,
            kind=KIND,
            reason=reason,
            feature=None,
            failing_since=self.clock(),
            subject=SEATS,
        )
        if opened:
            log.info(
                "seats incident %s#%d opened for %s: %s",
                connection.provider,
                incident.number,
                connection.team_id,
                reason,
            )
            await self.alerts.post_alert(connection, incident, msg.alert_message(view))
            return incident
        if incident.reason == reason:  # the same numbers: nothing new to say
            return incident
        incident = await self.incidents.checked(incident.id, kind=KIND, reason=reason, feature=None)
        await self.alerts.update_alert(connection, incident, msg.alert_message(view))
        return incident

    async def _enough(self, connection: ConnectionRecord, bought: int | None, assigned: int) -> None:
        incident = await self.incidents.open_for(connection.id, SEATS)
        if incident is None:
            return
        resolved = await self.incidents.resolve(incident.id, None)
        if resolved is None:  # another replica resolved it
            return
        log.info(
            "seats incident %s#%d of %s resolved", connection.provider, resolved.number, connection.team_id
        )
        view = self._view(connection, bought, assigned, resolved_at=resolved.resolved_at)
        await self.alerts.update_alert(connection, resolved, msg.resolved_message(view, resolved.reason))

    def _view(self, connection: ConnectionRecord, bought: int | None, assigned: int, resolved_at=None):
        spec = self.alerts.registry.find(connection.provider)
        seats = free_seats(bought, assigned)
        return msg.SeatsView(
            provider=spec.display_name if spec else connection.provider,
            account=connection.account_name or connection.account_id or "your account",
            bought=seats.bought if seats else 0,
            assigned=assigned,
            free=seats.free if seats else 0,
            checked=self.clock(),
            resolved_at=resolved_at,
        )
