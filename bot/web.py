"""The app factory: a Starlette app with Bolt mounted beside our own routes.

`create_app(settings, ...)` takes its dependencies (clock, HTTP client,
storage) so tests and benchmarks can pass stand-ins. The lifespan starts and
stops background work: the scheduler and, in Socket Mode, the WebSocket client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import datetime, timedelta

import httpx
from slack_bolt.adapter.starlette.async_handler import (
    AsyncSlackRequestHandler,
    to_async_bolt_request,
    to_starlette_response,
)
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.container import build_services
from bot.core.clock import Clock, utcnow
from bot.core.config import Settings
from bot.core.logs import AccessLogMiddleware, annotate, register_secret
from bot.scheduler import Scheduler
from bot.services.health import JOB_EVERY
from bot.slack_app import build_bolt_app
from handlers.oauth import routes as oauth_routes
from storage.crypto import Encryptor, load_keys
from storage.db import Database
from storage.store import Storage

log = logging.getLogger("quolum.web")

MAX_SLACK_BODY = 1 << 20  # Slack's payloads are a few kB; anything near 1 MB is not Slack
DRAIN_SECONDS = 20
STOPPED = "stopped: in-flight work drained, scheduler and database closed"


def build_storage(settings: Settings, *, clock: Clock = utcnow, replica_id: str | None = None) -> Storage:
    encryptor = Encryptor(load_keys(settings.encryption_keys, settings.data_dir))
    replica = replica_id or f"{socket.gethostname()}:{os.getpid()}"
    return Storage(Database(settings.database_url), encryptor, replica_id=replica, clock=clock)


def housekeeping(storage: Storage):
    async def run(now: datetime) -> None:
        purged = await storage.states.purge_expired()
        log.info("housekeeping purged %d expired oauth states", purged)

    return run


def create_app(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    storage: Storage | None = None,
    http: httpx.AsyncClient | None = None,
    replica_id: str | None = None,
    housekeeping_every: timedelta = timedelta(hours=1),
) -> Starlette:
    for secret in (
        settings.signing_secret,
        settings.client_secret,
        settings.bot_token,
        settings.app_token,
        settings.hubspot_client_secret,
    ):
        register_secret(secret)
    storage = storage or build_storage(settings, clock=clock, replica_id=replica_id)
    http = http or httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0), follow_redirects=False)
    services = build_services(settings, storage, clock, http)
    bolt = build_bolt_app(services)
    slack = AsyncSlackRequestHandler(bolt)
    scheduler = Scheduler(storage.claims, clock)
    scheduler.add("housekeeping", housekeeping_every, housekeeping(storage))
    scheduler.add("expire_invitations", timedelta(hours=1), lambda now: services.invites.expire_overdue())
    scheduler.add("connection_health", JOB_EVERY, services.health.run)

    verifier = SignatureVerifier(settings.signing_secret) if settings.signing_secret else None

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_SLACK_BODY:
            return PlainTextResponse("Payload too large", status_code=413)
        # Verify before parsing: Bolt parses the body first and some malformed bodies raise in its parser.
        if verifier is not None and not _signed(verifier, body, request):
            annotate(outcome="unauthorized")
            return PlainTextResponse("Invalid request signature", status_code=401)
        try:
            bolt_request = to_async_bolt_request(request, body)
            well_formed = isinstance(bolt_request.body, dict) and bool(bolt_request.body)
        except Exception:  # any parser failure on a signed body is the sender's fault, not a 500
            well_formed = False
        if not well_formed:
            annotate(outcome="malformed")
            return PlainTextResponse("Malformed request", status_code=400)
        response = await bolt.async_dispatch(bolt_request)
        if response.status == 401:
            annotate(outcome="unauthorized")
        return to_starlette_response(response)

    async def slack_oauth(request: Request) -> Response:
        if bolt.oauth_flow is None:
            return PlainTextResponse(
                "This bot runs in single-workspace mode: there is nothing to install here.", status_code=404
            )
        return await slack.handle(request)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

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
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(bolt, settings.app_token, web_client=bolt.client)
            await socket_mode.connect_async()
        try:
            yield
        finally:
            scheduler.shutdown()
            if socket_mode is not None:
                await socket_mode.close_async()
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
        *oauth_routes(services.connections),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(AccessLogMiddleware)
    app.state.services = services
    app.state.bolt = bolt
    app.state.scheduler = scheduler
    return app


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
