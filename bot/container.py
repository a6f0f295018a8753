"""What handlers need, in one object built by the app factory (tests pass stand-ins)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from bot.core.clock import Clock
from bot.core.config import Settings
from storage.store import Storage

if TYPE_CHECKING:
    from bot.services.connections import ConnectionsService
    from bot.services.digests import DigestService
    from bot.services.invites import InvitesService
    from bot.services.sendgrid_connect import SendGridConnectService
    from providers.credentials import CredentialManager
    from providers.hubspot import HubSpotClient
    from providers.ratelimit import Limiter


@dataclass
class Services:
    settings: Settings
    storage: Storage
    clock: Clock
    http: httpx.AsyncClient  # shared by every provider call of this process
    limiter: Limiter | None = None  # one per process: HubSpot's limits are per account, across coroutines
    hubspot: HubSpotClient | None = None
    credentials: CredentialManager | None = None
    connections: ConnectionsService | None = None
    invites: InvitesService | None = None
    sendgrid: SendGridConnectService | None = None  # connect with an API key; the daily key check
    digests: DigestService | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def build_services(settings: Settings, storage: Storage, clock: Clock, http: httpx.AsyncClient) -> Services:
    """Wire the provider clients and services around storage and one shared HTTP client."""
    from bot.services.connections import ConnectionsService
    from bot.services.digests import DigestService
    from bot.services.invites import InvitesService
    from providers import hubspot
    from providers.credentials import CredentialManager
    from providers.http import HUBSPOT, ProviderHTTP
    from providers.ratelimit import Limiter

    limiter = Limiter()
    hubspot_client = hubspot.HubSpotClient(ProviderHTTP(http, HUBSPOT, limiter=limiter), settings)

    def hubspot_revoked(error) -> str | None:
        return hubspot.revoked_reason(error) if hubspot.classify(error) == "revoked" else None

    services = Services(
        settings=settings, storage=storage, clock=clock, http=http, limiter=limiter, hubspot=hubspot_client
    )
    services.credentials = CredentialManager(
        storage.connections, {"hubspot": (hubspot_client.refresh, hubspot_revoked)}, clock
    )
    services.connections = ConnectionsService(services)
    services.sendgrid = _sendgrid(services, http, limiter)
    services.invites = InvitesService(services)
    services.connections.connected_hooks.append(services.invites.on_connected)
    services.digests = DigestService(
        store=storage.digests,
        snapshots=storage.snapshots,
        connections=storage.connections,
        slack=slack_client_factory(settings, storage),
        collect=_collector(services),
        clock=clock,
        replica=storage.claims.replica_id,
        lease=timedelta(seconds=settings.digest_lease_seconds),
        concurrency=settings.digest_concurrency,
    )
    return services


def slack_client_factory(settings: Settings, storage: Storage):
    """team id -> a Slack client with that workspace's bot token (None when not installed). Digests
    wait out 429s for as long as Slack asks (slack_sdk's retry handler), so nothing is dropped."""
    from bot.slack_app import web_client

    async def client_for(team_id: str):
        token = settings.bot_token
        if not token:
            bot = await storage.installations.async_find_bot(enterprise_id=None, team_id=team_id)
            token = bot.bot_token if bot else None
        return web_client(settings, token, rate_limit_retries=20) if token else None

    return client_for


def _collector(services: Services):
    """(connection, period text) -> a fresh report, stored as a snapshot; a refused credential marks
    the connection Needs reconnect (as `usage collect` does) and raises."""
    from bot.services.usage import REJECTED, UsageService
    from providers.http import Unauthorized

    usage = UsageService(services)

    async def collect(connection, period_text: str) -> dict:
        try:
            report = (await usage.job(connection, period_text).run()).to_json()
        except Unauthorized:
            await services.storage.connections.mark_needs_reconnect(
                connection.id, REJECTED[connection.provider]
            )
            raise
        await services.storage.snapshots.save(report)
        await services.storage.connections.touch(connection.id)
        return report

    return collect


def _sendgrid(services: Services, http: httpx.AsyncClient, limiter: Limiter):
    from bot.services.sendgrid_connect import SendGridConnectService
    from providers.http import SENDGRID, ProviderHTTP
    from providers.sendgrid import SendGridClient

    client = SendGridClient(ProviderHTTP(http, SENDGRID, limiter=limiter), services.settings)
    return SendGridConnectService(services, client)
