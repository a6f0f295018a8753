"""What handlers need, in one object built by the app factory (tests pass stand-ins)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from bot.core.clock import Clock
from bot.core.config import Settings
from storage.store import Storage

if TYPE_CHECKING:
    from bot.services.app_home import AppHomeService
    from bot.services.connections import ConnectionsService
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
    home: AppHomeService | None = None  # the App Home tab
    extras: dict[str, Any] = field(default_factory=dict)


def build_services(settings: Settings, storage: Storage, clock: Clock, http: httpx.AsyncClient) -> Services:
    """Wire the provider clients and services around storage and one shared HTTP client."""
    from bot.services.app_home import AppHomeService
    from bot.services.connections import ConnectionsService
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
    services.home = AppHomeService(services)
    services.connections.connected_hooks.append(services.home.on_connection_changed)
    services.connections.disconnected_hooks.append(services.home.on_connection_changed)
    services.invites.changed_hooks.append(services.home.on_invitations_changed)
    return services


def _sendgrid(services: Services, http: httpx.AsyncClient, limiter: Limiter):
    from bot.services.sendgrid_connect import SendGridConnectService
    from providers.http import SENDGRID, ProviderHTTP
    from providers.sendgrid import SendGridClient

    client = SendGridClient(ProviderHTTP(http, SENDGRID, limiter=limiter), services.settings)
    return SendGridConnectService(services, client)
