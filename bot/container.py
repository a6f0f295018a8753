"""Composition: the Services container, built here and handed to the handlers (tests pass stand-ins).

`build_services()` is the one place that knows how the flows fit together: it makes the provider
clients, the token manager and the Slack client factory, and gives each service what it needs in its
constructor. Services never import this module; handlers only for type checking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from core.clock import Clock
from core.config import Settings
from providers.ratelimit import Limiter
from providers.registry import INSTALLED, Bound, Registry
from services.admins import AdminsService
from services.alerts import AlertsService
from services.app_home import AppHomeService
from services.connections import ConnectionsService
from services.contracts import ContractsService
from services.credential_connect import CredentialConnectService
from services.credentials import CredentialManager
from services.digests import DigestService
from services.health import HealthService
from services.invites import InvitesService
from services.reclaims import ReclaimsService
from services.renewals import RenewalsService
from services.seat_alerts import SeatAlertsService
from services.seat_asks import AsksService
from services.seats import SeatsService
from services.slack_clients import SlackClients
from services.slack_events import SlackEvents
from services.usage import UsageService
from storage.store import Storage


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    clock: Clock
    http: httpx.AsyncClient  # shared by every provider call of this process
    registry: Registry  # the installed providers
    providers: Bound  # their hooks, built once for this process
    limiter: Limiter  # one per process: providers' limits are per account, across coroutines
    credentials: CredentialManager
    slack_clients: SlackClients  # a workspace's Slack client, for DMs outside a request
    connections: ConnectionsService
    invites: InvitesService
    credential_forms: CredentialConnectService  # connect by pasting a credential (an API key)
    usage: UsageService  # `quolum-bot usage collect` and the digests
    alerts: AlertsService  # one alert per incident, updated in place
    health: HealthService  # the connection_health job; every use reports to it
    digests: DigestService  # the scheduled digests, previews and sends
    home: AppHomeService  # the App Home tab
    admins: AdminsService  # `/quolum admins`: who Slack admins made Quolum admins
    events: SlackEvents  # each Events API delivery handled once
    seats: SeatsService  # idle seats as admins review them
    asks: AsksService  # Keep or Release: asks, answers, reminders
    reclaims: ReclaimsService  # seats given back through the providers, undo, savings
    contracts: ContractsService  # seats bought, prices, renewal dates
    renewals: RenewalsService  # renewal reminders before each notice deadline


def _revoked(hooks):
    """The reason a refused refresh or renewal gives for "needs reconnect", or None if transient."""

    def reason(error) -> str | None:
        failure = hooks.classify(error, "refresh")
        return failure.reason if failure.kind == "revoked" else None

    return reason


def refreshers(providers: Bound) -> dict:
    """provider -> (refresh(refresh_token), the reason a refused refresh gives, or None if transient)."""
    return {spec.key: (hooks.refresh, _revoked(hooks)) for spec, hooks in providers.items() if spec.consent}


def renewers(providers: Bound) -> dict:
    """provider -> (renew(credentials), as above): credential forms whose bearer expires without a
    refresh token (providers/plugin.py `Renewed`)."""
    return {
        spec.key: (hooks.renew, _revoked(hooks))
        for spec, hooks in providers.items()
        if spec.form and hasattr(hooks, "renew")
    }


def build_services(
    settings: Settings,
    storage: Storage,
    clock: Clock,
    http: httpx.AsyncClient,
    registry: Registry = INSTALLED,
) -> Services:
    """Wire the provider hooks and services around storage and one shared HTTP client."""
    limiter = Limiter(registry.limits())
    providers = registry.bind(http, settings, limiter, clock)
    credentials = CredentialManager(
        storage.connections, refreshers(providers), clock, renewers=renewers(providers)
    )
    slack_clients = SlackClients(settings, storage.installations)
    connections = ConnectionsService(
        storage=storage, settings=settings, clock=clock, providers=providers, slack_clients=slack_clients
    )
    invites = InvitesService(
        storage=storage,
        settings=settings,
        clock=clock,
        connections=connections,
        slack_clients=slack_clients,
        providers=registry,
    )
    connections.connected_hooks.append(invites.on_connected)
    credential_forms = CredentialConnectService(
        storage=storage, providers=providers, connections=connections, clock=clock
    )
    alerts = AlertsService(
        incidents=storage.incidents,
        routes=storage.alert_routes,
        connections=storage.connections,
        admins=storage.admins,
        slack_client=slack_clients,
        clock=clock,
        registry=registry,
    )
    connections.connected_hooks.append(alerts.on_connected)
    health = HealthService(
        connections=storage.connections,
        checks=storage.checks,
        alerts=alerts,
        credentials=credentials,
        providers=providers,
        clock=clock,
    )
    # every real use of a connection reports its outcome to the health service
    usage = UsageService(
        storage=storage,
        settings=settings,
        clock=clock,
        credentials=credentials,
        providers=providers,
        health=health,
    )
    seat_alerts = SeatAlertsService(storage=storage, alerts=alerts, clock=clock)
    usage.stored_hooks.append(seat_alerts.check)  # every collection (CLI, scheduler, digests) passes here
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
        registry=registry,
    )
    home = AppHomeService(
        storage=storage, connections=connections, slack_clients=slack_clients, registry=registry
    )
    connections.connected_hooks.append(home.on_connection_changed)
    connections.disconnected_hooks.append(home.on_connection_changed)
    for service in (invites, digests, alerts):  # each lists something App Home shows
        service.changed_hooks.append(home.on_changed)
    seats = SeatsService(storage=storage, providers=providers, slack_clients=slack_clients, clock=clock)
    asks = AsksService(seats)
    reclaims = ReclaimsService(seats=seats, credentials=credentials, replica=storage.claims.replica_id)
    asks.released_hooks.append(reclaims.on_release)
    digests.seat_notes = reclaims.digest_notes  # the digest's savings line and kept seats
    home.seat_lines = reclaims.home_lines  # App Home's idle-seats section (admins)
    contracts = ContractsService(storage=storage, registry=registry, clock=clock)
    contracts.saved_hooks.append(seat_alerts.on_contract_saved)  # more seats bought resolves
    return Services(
        settings=settings,
        storage=storage,
        clock=clock,
        http=http,
        registry=registry,
        providers=providers,
        limiter=limiter,
        credentials=credentials,
        slack_clients=slack_clients,
        connections=connections,
        invites=invites,
        credential_forms=credential_forms,
        usage=usage,
        alerts=alerts,
        health=health,
        digests=digests,
        home=home,
        admins=AdminsService(storage.admins),
        events=SlackEvents(storage.claims),
        seats=seats,
        asks=asks,
        reclaims=reclaims,
        contracts=contracts,
        renewals=RenewalsService(
            storage=storage, registry=registry, slack_clients=slack_clients, clock=clock
        ),
    )
