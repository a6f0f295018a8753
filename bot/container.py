"""Composition: the Services container, built here and handed to the handlers (tests pass stand-ins).

`build_services()` is the one place that knows how the flows fit together: it makes the provider
clients, the token manager and the Slack client factory, and gives each service what it needs in its
constructor. Services never import this module; handlers only for type checking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from core.clock import Clock
from core.config import Settings
from providers.http import HUBSPOT, SENDGRID, ProviderHTTP
from providers.hubspot import client as hubspot
from providers.hubspot.client import HubSpotClient
from providers.ratelimit import Limiter
from providers.sendgrid.client import SendGridClient
from services.admins import AdminsService
from services.alerts import AlertsService
from services.app_home import AppHomeService
from services.connections import ConnectionsService
from services.credentials import CredentialManager
from services.digests import DigestService
from services.health import HealthService
from services.invites import InvitesService
from services.sendgrid_connect import SendGridConnectService
from services.slack_clients import SlackClients
from services.slack_events import SlackEvents
from services.usage import UsageService
from storage.store import Storage


@dataclass
class Services:
    settings: Settings
    storage: Storage
    clock: Clock
    http: httpx.AsyncClient  # shared by every provider call of this process
    limiter: Limiter | None = None  # one per process: HubSpot's limits are per account, across coroutines
    hubspot: HubSpotClient | None = None
    credentials: CredentialManager | None = None
    slack_clients: SlackClients | None = None  # a workspace's Slack client, for DMs outside a request
    connections: ConnectionsService | None = None
    invites: InvitesService | None = None
    sendgrid: SendGridConnectService | None = None  # connect with an API key; the daily key check
    usage: UsageService | None = None  # `quolum-bot usage collect` and the digests
    alerts: AlertsService | None = None  # one alert per incident, updated in place
    health: HealthService | None = None  # the connection_health job; every use reports to it
    digests: DigestService | None = None  # the scheduled digests, previews and sends
    home: AppHomeService | None = None  # the App Home tab
    admins: AdminsService | None = None  # `/quolum admins`: who Slack admins made Quolum admins
    events: SlackEvents | None = None  # each Events API delivery handled once
    extras: dict[str, Any] = field(default_factory=dict)  # handler-to-handler wiring (the SendGrid modal)


def build_services(settings: Settings, storage: Storage, clock: Clock, http: httpx.AsyncClient) -> Services:
    """Wire the provider clients and services around storage and one shared HTTP client."""
    limiter = Limiter()
    hubspot_client = hubspot.HubSpotClient(ProviderHTTP(http, HUBSPOT, limiter=limiter), settings)

    def hubspot_revoked(error) -> str | None:
        return hubspot.revoked_reason(error) if hubspot.classify(error, "refresh") == "revoked" else None

    credentials = CredentialManager(
        storage.connections, {"hubspot": (hubspot_client.refresh, hubspot_revoked)}, clock
    )
    slack_clients = SlackClients(settings, storage.installations)
    connections = ConnectionsService(
        storage=storage, settings=settings, clock=clock, hubspot=hubspot_client, slack_clients=slack_clients
    )
    sendgrid_client = SendGridClient(ProviderHTTP(http, SENDGRID, limiter=limiter), settings)
    invites = InvitesService(
        storage=storage, settings=settings, clock=clock, connections=connections, slack_clients=slack_clients
    )
    connections.connected_hooks.append(invites.on_connected)
    sendgrid = SendGridConnectService(
        storage=storage, client=sendgrid_client, connections=connections, clock=clock
    )
    usage = UsageService(
        storage=storage, settings=settings, clock=clock, credentials=credentials, http=http, limiter=limiter
    )
    alerts = AlertsService(
        incidents=storage.incidents,
        routes=storage.alert_routes,
        connections=storage.connections,
        admins=storage.admins,
        slack_client=slack_clients,
        clock=clock,
    )
    connections.connected_hooks.append(alerts.on_connected)
    health = HealthService(
        connections=storage.connections,
        checks=storage.checks,
        alerts=alerts,
        credentials=credentials,
        hubspot=hubspot_client,
        sendgrid=sendgrid,
        clock=clock,
    )
    usage.health = health  # every real use of a connection reports its outcome to the health service
    digests = DigestService(
        store=storage.digests,
        snapshots=storage.snapshots,
        connections=storage.connections,
        # digests wait out 429s for as long as Slack asks (slack_sdk's retry handler): nothing is dropped
        slack=SlackClients(settings, storage.installations, rate_limit_retries=20),
        collect=usage.collect_and_store,
        clock=clock,
        replica=storage.claims.replica_id,
        lease=timedelta(seconds=settings.digest_lease_seconds),
        concurrency=settings.digest_concurrency,
    )
    home = AppHomeService(storage=storage, connections=connections, slack_clients=slack_clients)
    connections.connected_hooks.append(home.on_connection_changed)
    connections.disconnected_hooks.append(home.on_connection_changed)
    for service in (invites, digests, alerts):  # each lists something App Home shows
        service.changed_hooks.append(home.on_changed)
    return Services(
        settings=settings,
        storage=storage,
        clock=clock,
        http=http,
        limiter=limiter,
        hubspot=hubspot_client,
        credentials=credentials,
        slack_clients=slack_clients,
        connections=connections,
        invites=invites,
        sendgrid=sendgrid,
        usage=usage,
        alerts=alerts,
        health=health,
        digests=digests,
        home=home,
        admins=AdminsService(storage.admins),
        events=SlackEvents(storage.claims),
    )
