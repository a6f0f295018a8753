"""The app factory: a Starlette app with Bolt mounted beside our own routes.

`create_app(settings, ...)` takes its dependencies (clock, HTTP client,
storage) so tests and benchmarks can pass stand-ins. The lifespan starts and
stops background work: the scheduler and, in Socket Mode, the WebSocket client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
from datetime import datetime, timedelta

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.container import build_services
from bot.scheduler import Scheduler
from bot.server import BODY_TIMEOUT
from bot.slack_app import build_bolt_app
from bot.web_security import BodyLimit, SecurityHeaders
from core import metrics
from core.clock import Clock, utcnow
from core.config import Settings
from core.logs import AccessLogMiddleware, annotate, register_secret
from handlers import slack_request
from handlers.oauth import routes as oauth_routes
from providers.http_client import provider_client
from providers.registry import INSTALLED, Registry
from services.health import JOB_EVERY
from storage.crypto import Encryptor, load_keys
from storage.db import Database
from storage.states import SlackInstallStateStore
from storage.store import Storage

log = logging.getLogger("quolum.web")

MAX_BODY = 1 << 20  # Slack's payloads are a few kB; anything near 1 MB is not Slack
DRAIN_SECONDS = 20
STOPPED = "stopped: in-flight work drained, scheduler and database closed"


def build_storage(settings: Settings, *, clock: Clock = utcnow, replica_id: str | None = None) -> Storage:
    encryptor = Encryptor(load_keys(settings.encryption_keys, settings.data_dir))
    replica = replica_id or f"{socket.gethostname()}:{os.getpid()}"
    return Storage(Database(settings.database_url), encryptor, replica_id=replica, clock=clock)


def housekeeping(storage: Storage, connections=None):
    async def run(now: datetime) -> None:
        purged = await storage.states.purge_expired(prompt_kinds=(SlackInstallStateStore.KIND,))
        log.info("housekeeping purged %d expired oauth states", purged)
        if connections is not None:  # tokens an interrupted OAuth callback left live at the provider
            await connections.issued.revoke_lost()

    return run


def build_scheduler(services, *, housekeeping_every: timedelta = timedelta(minutes=10)) -> Scheduler:
    """The jobs every replica schedules (also what `quolum-bot jobs list|run` sees)."""
    storage = services.storage
    scheduler = Scheduler(storage.claims, services.clock)
    scheduler.add("housekeeping", housekeeping_every, housekeeping(storage, services.connections))
    scheduler.add("expire_invitations", timedelta(hours=1), lambda now: services.invites.expire_overdue())
    scheduler.add("connection_health", JOB_EVERY, services.health.run)
    # reminders after 3 and 7 days, then *no answer*: each counted by one compare-and-set (storage.seats)
    scheduler.add("seat_reminders", timedelta(hours=1), services.asks.remind)
    # every replica, every minute: deliveries are claimed row by row (storage.digests)
    scheduler.add("digests", timedelta(minutes=1), services.digests.run, exclusive=False)
    # before each contract's notice deadline: each stage decided once by its row, each destination posted
    # exactly once (claimed with a lease, fenced; storage.renewals)
    scheduler.add("renewal_reminders", timedelta(hours=1), services.renewals.run)
    return scheduler


def create_app(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    storage: Storage | None = None,
    http: httpx.AsyncClient | None = None,
    replica_id: str | None = None,
    housekeeping_every: timedelta = timedelta(minutes=10),  # used install states go once expired
    body_timeout: float = BODY_TIMEOUT,
    providers: Registry = INSTALLED,
) -> Starlette:
    providers.redact_credentials()
    for secret in (
        settings.signing_secret,
        settings.client_secret,
        settings.bot_token,
        settings.app_token,
        settings.metrics_token,
        *(settings.value(setting.name) for setting in providers.settings() if setting.secret),
    ):
        register_secret(secret)
    storage = storage or build_storage(settings, clock=clock, replica_id=replica_id)
    http = http or provider_client()
    services = build_services(settings, storage, clock, http, providers)
    bolt = build_bolt_app(services)
    slack = AsyncSlackRequestHandler(bolt)
    scheduler = build_scheduler(services, housekeeping_every=housekeeping_every)

    verifier = SignatureVerifier(settings.signing_secret) if settings.signing_secret else None

    async def slack_events(request: Request) -> Response:
        body = await request.body()  # BodyLimit has capped its size and the time it may take
        # Verify before parsing: a body that is not Slack's is not worth reading.
        if verifier is not None and not _signed(verifier, body, request):
            annotate(outcome="unauthorized")
            return PlainTextResponse("Invalid request signature", status_code=401)
        raw = body.decode("utf-8", errors="replace")
        parsed = slack_request.parse(raw, request.headers.get("content-type", "").split(";")[0].strip())
        problem = "not a JSON object or Slack form" if parsed is None else slack_request.problem(parsed)
        if problem:
            annotate(outcome="malformed")
            log.info("malformed Slack request: %s", problem)
            return PlainTextResponse("Malformed request", status_code=400)
        try:
            bolt_request = slack_request.ParsedBoltRequest.build(
                raw, parsed, query=request.query_params, headers=request.headers
            )
            response = await bolt.async_dispatch(bolt_request)
        except Exception:  # a shape we did not foresee reached Bolt or a listener before ack(): a bug
            annotate(outcome="error")
            log.exception("Slack request failed before it was acknowledged")
            return PlainTextResponse("Could not process this request", status_code=400)
        if response.status == 401:
            annotate(outcome="unauthorized")
        if response.status >= 500:  # a listener raised before ack(); Bolt's error handler logged it
            annotate(outcome="error")
            status, answer = slack_request.failed_answer(parsed)
            return JSONResponse(answer, status_code=status) if answer else Response(status_code=status)
        return to_starlette_response(response)

    async def slack_oauth(request: Request) -> Response:
        if bolt.oauth_flow is None:
            return PlainTextResponse(
                "This bot runs in single-workspace mode: there is nothing to install here.", status_code=404
            )
        return await slack.handle(request)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_page(request: Request) -> Response:
        if settings.metrics_token and not _bearer_matches(request, settings.metrics_token):
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
            )
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    async def readyz(request: Request) -> Response:
        if await storage.db.ping():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "database unreachable"}, status_code=503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        socket_mode = None
        if settings.scheduler_enabled:
            scheduler.start()
        if settings.socket_mode:
            from bot.socket_mode import SocketModeRunner

            socket_mode = SocketModeRunner(bolt, settings.app_token)
            socket_mode.start()  # in the background: the HTTP port opens now, whatever Slack does
            app.state.socket_mode = socket_mode
        try:
            yield
        finally:
            scheduler.shutdown()
            if socket_mode is not None:
                await socket_mode.close()
            await _drain_background_tasks()
            await http.aclose()
            await storage.db.dispose()
            log.info(STOPPED)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/slack/install", slack_oauth, methods=["GET"]),
        Route("/slack/oauth_redirect", slack_oauth, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        *oauth_routes(services.connections),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    # the last added runs first: the access line sees every answer, headers go on every answer
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY, timeout=body_timeout)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith("https://"))
    app.add_middleware(AccessLogMiddleware)
    app.state.services = services
    app.state.bolt = bolt
    app.state.scheduler = scheduler
    return app


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except (ValueError, UnicodeDecodeError):  # a non-numeric timestamp, a body that is not UTF-8
        return False


def _is_listener_task(task: asyncio.Task) -> bool:
    # Bolt runs each listener in its own task (asyncio.ensure_future) after ack(); so do lazy listeners.
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and code.co_name in ("run_ack_function_asynchronously", "run_lazy_function")


async def _drain_background_tasks() -> None:
    """Let work started after ack() (responses, DMs) finish before the process exits."""
    pending = [t for t in asyncio.all_tasks() if not t.done() and _is_listener_task(t)]
    if pending:
        done, still = await asyncio.wait(pending, timeout=DRAIN_SECONDS)
        if still:
            log.warning("shutdown: %d background tasks did not finish in %d s", len(still), DRAIN_SECONDS)
