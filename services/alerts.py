"""The incident lifecycle: one alert message per incident, updated in place, reminded once, resolved.

`failing(connection, failure, failing_since)` opens the connection's incident (the unique key
(connection, number) makes exactly one replica the opener, and only the opener posts) or, when one is
open, updates its message with `chat.update` ("still failing, last checked ..."); three days after it
opened, one reminder goes into the message's thread. `working(connection, resolved_by)` closes it and
rewrites the message to *Resolved*. A failure after that is a new incident with the next number.

Where alerts go: the channel set with `/quolum alerts #channel`; else a DM to whoever connected the
account; if that person left or cannot be reached, one group DM to the Quolum admins (members granted
with `/quolum admins add`, then the workspace's Slack owners and admins).

Whoever lists open incidents (App Home) listens through `changed_hooks`: called as hook(team_id,
people) when an incident opens or resolves, `people` being whoever connected the account.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core import metrics
from core.clock import Clock
from messages import alerts as msg
from providers.failures import Failure
from providers.registry import INSTALLED, Registry
from services import slack_once, slack_roles
from storage.connections import AdminStore, ConnectionRecord, ConnectionStore
from storage.incidents import AlertRouteStore, IncidentRecord, IncidentStore

log = logging.getLogger("quolum.alerts")

REMIND_AFTER = timedelta(days=3)
MAX_GROUP = 8  # Slack's group DMs hold the bot and up to 8 people
ALERT_EVENT = "quolum_alert"  # the metadata event_type of an alert post; its payload id is the incident's

SlackClients = Callable[[str], Awaitable[AsyncWebClient | None]]


class AlertsService:
    def __init__(
        self,
        *,
        incidents: IncidentStore,
        routes: AlertRouteStore,
        connections: ConnectionStore,
        admins: AdminStore,
        slack_client: SlackClients,
        clock: Clock,
        registry: Registry = INSTALLED,
    ) -> None:
        self.incidents = incidents
        self.registry = registry
        self.routes = routes
        self.connections = connections
        self.admins = admins
        self.slack_client = slack_client
        self.clock = clock
        self.changed_hooks: list = []

    # --- the lifecycle ----------------------------------------------------------------------------
    async def failing(self, connection: ConnectionRecord, failure: Failure, failing_since) -> IncidentRecord:
        incident, opened = await self.incidents.open(
            connection_id=connection.id,
            team_id=connection.team_id,
            provider=connection.provider,
            kind=failure.kind,
            reason=failure.reason,
            feature=failure.feature,
            failing_since=failing_since,
        )
        if opened:
            log.warning(
                "incident %s#%d opened for connection %s (%s): %s",
                connection.provider,
                incident.number,
                connection.id,
                failure.kind,
                failure.reason,
            )
            await self.post_alert(connection, incident)
            await self._count_open(connection.provider)
            await self._changed(connection)
            return incident
        incident = await self.incidents.checked(
            incident.id,
            kind=incident.kind if failure.kind == "transient" else failure.kind,
            reason=incident.reason if failure.kind == "transient" else failure.reason,
            feature=incident.feature if failure.kind == "transient" else failure.feature,
        )
        await self.update_alert(connection, incident, msg.alert_message(self.view(connection, incident)))
        if self.clock() - incident.opened_at >= REMIND_AFTER and await self.incidents.claim_reminder(
            incident.id
        ):
            await self._remind(connection, incident)
        return incident

    async def working(self, connection: ConnectionRecord, resolved_by: str | None = None) -> bool:
        """The connection works again: resolve its open incident (True when this call did)."""
        incident = await self.incidents.open_for(connection.id)
        if incident is None:
            return False
        resolved = await self.incidents.resolve(incident.id, resolved_by)
        if resolved is None:
            return False
        log.info(
            "incident %s#%d of connection %s resolved", connection.provider, resolved.number, connection.id
        )
        await self.update_alert(connection, resolved, msg.resolved_message(self.view(connection, resolved)))
        await self._count_open(connection.provider)
        await self._changed(connection)
        return True

    async def _count_open(self, provider: str) -> None:
        """The alerts-open gauge, from the database, so every replica reports the same number."""
        metrics.ALERTS_OPEN.labels(provider=provider).set(await self.incidents.count_open(provider))

    async def _changed(self, connection: ConnectionRecord) -> None:
        """Tell the listeners; one that fails is logged and changes nothing here."""
        people = (connection.connected_by,) if connection.connected_by else ()
        for hook in self.changed_hooks:
            try:
                await hook(connection.team_id, people)
            except Exception:
                log.exception("an incident change listener failed for %s", connection.team_id)

    async def on_connected(
        self, team_id: str, provider: str, user_id: str, invitation_id: str | None = None
    ) -> None:
        """ConnectionsService hook: a reconnect resolves the incident, naming who did it."""
        connection = await self.connections.get(team_id, provider)
        if connection is not None:
            await self.working(connection, resolved_by=user_id)

    async def incident(self, incident_id: int) -> IncidentRecord | None:
        """The incident an alert's Reconnect button names (its value), open or resolved."""
        return await self.incidents.get(incident_id)

    # --- where alerts go (`/quolum alerts`) --------------------------------------------------------
    async def channel(self, team_id: str) -> str | None:
        """The channel set for the workspace's alerts, or None: the default (DMs, then the admins)."""
        return await self.routes.get(team_id)

    async def send_to(self, team_id: str, channel_id: str, user_id: str) -> None:
        await self.routes.set(team_id, channel_id, user_id)

    async def send_by_default(self, team_id: str) -> None:
        await self.routes.clear(team_id)

    def view(self, connection: ConnectionRecord, incident: IncidentRecord) -> msg.AlertView:
        spec = self.registry.find(connection.provider)
        return msg.AlertView(
            incident_id=incident.id,
            provider=spec.display_name if spec else connection.provider,
            provider_key=connection.provider,
            account=connection.account_name or connection.account_id or "your account",
            kind=incident.kind,
            reason=incident.reason,
            feature=incident.feature,
            purpose=spec.purpose_of(incident.feature) if spec and incident.feature else None,
            failing_since=incident.failing_since,
            last_checked=incident.last_checked_at,
            resolved_at=incident.resolved_at,
            resolved_by=incident.resolved_by,
            opened_at=incident.opened_at,
        )

    # --- Slack ------------------------------------------------------------------------------------
    async def post_alert(
        self, connection: ConnectionRecord, incident: IncidentRecord, message: dict | None = None
    ) -> None:
        """Post the incident's alert (`message`; default the access alert) where alerts go, once."""
        client = await self.slack_client(connection.team_id)
        if client is None:
            log.warning("incident of connection %s: no Slack installation to alert", connection.id)
            return
        message = message or msg.alert_message(self.view(connection, incident))
        for channel in await self._destinations(client, connection):
            try:  # the incident id rides in the metadata: an unanswered post is looked for, not repeated
                posted = await slack_once.post_once(
                    client,
                    channel=channel,
                    message=message,
                    event_type=ALERT_EVENT,
                    key=str(incident.id),
                    since=self.clock(),
                )
            except SlackApiError as error:
                log.info("alert to %s failed: %s", channel, error.response.get("error"))
                continue
            if posted.state == slack_once.NOT_POSTED:
                log.info("alert to %s not posted: %s", channel, posted.reason)
                continue
            if posted.state == slack_once.UNCERTAIN:  # it may be there: never a second alert elsewhere
                log.warning("incident %s: Slack did not answer the alert (%s)", incident.id, posted.reason)
                return
            await self.incidents.set_message(incident.id, posted.channel, posted.ts)
            return
        log.warning("incident of connection %s: nobody could be alerted", connection.id)

    async def update_alert(
        self, connection: ConnectionRecord, incident: IncidentRecord, message: dict
    ) -> None:
        if not incident.channel or not incident.ts:
            return  # still being posted by the replica that opened it
        client = await self.slack_client(connection.team_id)
        if client is None:
            return
        try:
            await client.chat_update(channel=incident.channel, ts=incident.ts, **message)
        except SlackApiError as error:
            log.info(
                "could not update the alert of incident %s: %s", incident.id, error.response.get("error")
            )

    async def _remind(self, connection: ConnectionRecord, incident: IncidentRecord) -> None:
        client = await self.slack_client(connection.team_id)
        if client is None:
            return
        try:
            await client.chat_postMessage(
                channel=incident.channel,
                thread_ts=incident.ts,
                **msg.reminder_message(self.view(connection, incident)),
            )
        except SlackApiError as error:
            log.info("could not remind about incident %s: %s", incident.id, error.response.get("error"))

    async def _destinations(self, client: AsyncWebClient, connection: ConnectionRecord) -> list[str]:
        """Channels to try in order: the workspace's alert channel, the connector's DM, the admins'."""
        out: list[str] = []
        route = await self.routes.get(connection.team_id)
        if route:
            out.append(route)
        if connection.connected_by:
            dm = await self._open_dm(client, [connection.connected_by], check_active=True)
            if dm:
                out.append(dm)
        admins = [a for a in await self._admins(client, connection.team_id) if a != connection.connected_by]
        if admins:
            group = await self._open_dm(client, admins[:MAX_GROUP])
            if group:
                out.append(group)
        return out

    async def _open_dm(self, client: AsyncWebClient, users: list[str], *, check_active=False) -> str | None:
        try:
            if check_active:
                user = (await client.users_info(user=users[0]))["user"]
                if user.get("deleted"):
                    return None
            return (await client.conversations_open(users=",".join(users)))["channel"]["id"]
        except SlackApiError as error:
            log.info("cannot open a DM with %d people: %s", len(users), error.response.get("error"))
            return None

    async def _admins(self, client: AsyncWebClient, team_id: str) -> list[str]:
        granted = [user for user, _ in await self.admins.list(team_id)]
        slack_admins: list[str] = []
        where = await self.slack_client.workspace(team_id)
        try:
            async for page in await client.users_list(limit=200):
                for member in page.get("members", []):
                    if slack_roles.is_admin(member, where):
                        slack_admins.append(member["id"])
        except SlackApiError as error:
            log.info("cannot list the workspace's admins: %s", error.response.get("error"))
        return list(dict.fromkeys(granted + slack_admins))
