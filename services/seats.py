"""Idle seats as admins review them (issue 23): every connection's idle seats from its latest report,
who they are in Slack, what they cost, whether they are protected or exempt, and what happened so far.
Asking is services/seat_asks.py, reclaiming services/reclaims.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from core.clock import Clock
from core.reports import InactiveSeat
from core.seats import ConnectionSeats, Policy, SeatRow
from messages import seats as msg
from providers.registry import Bound
from services.seat_members import members_by_email, slack_member
from storage.connections import CONNECTED, ConnectionRecord
from storage.store import Storage

log = logging.getLogger("quolum.seats")

QUOLUM = "quolum"  # the audit's actor for what the bot does by itself


def subject(seat: InactiveSeat) -> str:
    """How the audit names a seat's holder: name and email (nothing more personal)."""
    name = seat.name or seat.user_id
    return f"{name} <{seat.email}>" if seat.email else name


class SeatsService:
    def __init__(
        self,
        *,
        storage: Storage,
        providers: Bound,
        slack_clients: Callable[[str], Awaitable],
        clock: Clock,
    ) -> None:
        self.storage = storage
        self.store = storage.seats
        self.providers = providers
        self.registry = providers.registry
        self.slack_clients = slack_clients
        self.clock = clock

    # --- the view -------------------------------------------------------------------------------------
    async def connections(self, team_id: str, provider: str | None = None) -> list[ConnectionRecord]:
        found = []
        async for connection_id in self.storage.connections.active(team_id, provider):
            connection = await self.storage.connections.by_id(connection_id)
            if (
                connection is not None
                and connection.status == CONNECTED
                and connection.provider in self.registry
            ):
                found.append(connection)
        return found

    async def connection(self, team_id: str, provider: str) -> ConnectionRecord | None:
        found = await self.connections(team_id, provider)
        return found[0] if found else None

    async def connection_by_id(self, team_id: str, connection_id: int) -> ConnectionRecord | None:
        connection = await self.storage.connections.by_id(connection_id)
        ok = connection is not None and connection.team_id == team_id and connection.status == CONNECTED
        return connection if ok else None

    async def link(self, team_id: str, provider: str, login: str, member: str, admin: str) -> None:
        await self.store.link(team_id, provider, login, member, admin)
        await self.store.record(
            team_id, admin, "link", provider=provider or None, subject=login, detail=member
        )

    async def policy(self, team_id: str) -> Policy:
        return await self.store.policy(team_id)

    async def set_policy(self, team_id: str, policy: Policy, admin: str) -> None:
        await self.store.set_policy(team_id, policy, admin)
        days = ",".join(map(str, policy.reminder_days))
        detail = f"cooldown {policy.cooldown_days}, remind {days}, keep {policy.keep_days}"
        await self.store.record(team_id, admin, "settings", detail=detail)

    async def idle(self, connection: ConnectionRecord) -> tuple[list[InactiveSeat], str | None]:
        """The idle seats of the connection's latest report, or a sentence why there are none to show."""
        name = self.registry[connection.provider].display_name
        for report in await self.storage.snapshots.history(connection.team_id, connection.provider, 3):
            if report.account.id == (connection.account_id or str(connection.id)):
                if report.seats.active_paid_users is None and not report.seats.inactive_paid_users:
                    return [], msg.IDLE_UNKNOWN.format(provider=name)
                return list(report.seats.inactive_paid_users), None
        return [], msg.NOT_COLLECTED.format(provider=name)

    async def overview(self, team_id: str, provider: str | None = None) -> list[ConnectionSeats]:
        """Every connection's idle seats with who they are in Slack, their cost and what happened so far."""
        connections = await self.connections(team_id, provider)
        if not connections:
            return []
        emails = await members_by_email(await self.slack_clients(team_id))
        links = await self.store.links(team_id)
        asks = await self.store.latest_asks(team_id)
        reclaims = await self.store.latest_reclaims(team_id)
        exemptions = await self.store.exemptions(team_id)
        prices = await self.storage.digests.prices(team_id)
        policy = await self.store.policy(team_id)
        locale = (await self.storage.contracts.settings(team_id)).locale
        now = self.clock()
        result = []
        for connection in connections:
            spec = self.registry[connection.provider]
            hooks = self.providers(connection.provider)
            seats, unknown = await self.idle(connection)
            price = prices.get(connection.provider)
            rows = []
            for seat in seats:
                key = (connection.id, seat.user_id)
                blocked = exempt_reason(exemptions, connection.provider, seat) or (
                    hooks.protected(self.view_of(connection), seat) if spec.reclaim else None
                )
                if blocked is None and seat.admin:
                    blocked = msg.PROVIDER_ADMIN.format(provider=spec.display_name)
                rows.append(
                    SeatRow(
                        user_id=seat.user_id,
                        name=seat.name or seat.email or seat.user_id,
                        email=seat.email,
                        seat_type=seat.seat_type,
                        last_active=seat.last_active,
                        slack_user=slack_member(seat, connection.provider, emails, links),
                        monthly_minor=price.amount_minor if price else None,
                        currency=price.currency if price else None,
                        status=msg.status(asks.get(key), reclaims.get(key), policy, now),
                        blocked=blocked,
                        locale=locale,
                    )
                )
            action = spec.reclaim
            result.append(
                ConnectionSeats(
                    connection_id=connection.id,
                    provider=spec.display_name,
                    account=connection.account_name or connection.account_id or "",
                    rows=tuple(rows),
                    reclaim_verb=action.verb if action else None,
                    reclaim_note=action.note if action else "",
                    can_write=bool(action) and set(action.write_scope_names) <= set(connection.scopes),
                    saves_cost=action.saves_cost if action else True,
                    idle_unknown=unknown,
                    reclaim_on_release=connection.id in policy.reclaim_on_release,
                )
            )
        return result

    @staticmethod
    def view_of(connection: ConnectionRecord):
        from providers.plugin import Connection

        return Connection(
            connection.id,
            connection.account_id,
            connection.credentials,
            tuple(connection.scopes),
            tuple(connection.unavailable),
            connection.details,
            connection.connected_by,
            connection.account_name,
        )

    async def seat(
        self, team_id: str, connection_id: int, user_id: str
    ) -> tuple[ConnectionRecord, InactiveSeat] | None:
        """A connection of the workspace and one of its idle seats (a click names them: check both)."""
        connection = await self.storage.connections.by_id(connection_id)
        if connection is None or connection.team_id != team_id or connection.status != CONNECTED:
            return None
        seats, _ = await self.idle(connection)
        found = next((s for s in seats if s.user_id == user_id), None)
        if found is None:  # no longer idle in the latest report: maybe asked or released earlier
            ask = await self.store.latest_ask(connection_id, user_id)
            found = ask.seat if ask else None
        return (connection, found) if found else None


def exempt_reason(exemptions, provider: str, seat: InactiveSeat) -> str | None:
    """Why the exempt list keeps this seat out (a sentence), or None."""
    keys = {seat.user_id.lower(), (seat.email or "").lower()} - {""}
    for exemption in exemptions:
        if exemption.provider in ("", provider) and exemption.subject in keys:
            if exemption.until is None:
                return msg.EXEMPT
            return msg.KEPT_UNTIL.format(
                until=msg.day(exemption.until), reason=msg.reason_text(exemption.reason or "")
            )
    return None
