"""A whole sandbox on 127.0.0.1: the Slack, HubSpot and SendGrid stand-ins and the real bot server.

`SandboxEnv` starts the stand-ins (seeded, deterministic, port 0), a SQLite database in a temporary
data directory with a demo workspace installed, and `bot.web.create_app` under uvicorn; then it acts
as Slack does towards the bot (signed slash commands, interaction payloads, events) and as a person's
browser does (the Connect link, HubSpot's consent page). The demo and the sandbox page both drive it.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from providers.catalogue import SENDGRID
from sandbox import slack_requests as sr
from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.hubspot_seed import generate_portal
from sandbox.standins.sendgrid import SendGridStandIn
from sandbox.standins.sendgrid_seed import generate_account
from sandbox.standins.server import ThreadedServer
from sandbox.standins.slack import Call, SlackStandIn

TEAM_ID, TEAM_NAME = "TDEMO0001", "Acme Inc"
GENERAL, SAAS_USAGE = "CGENERAL1", "CSAASUSE1"
CHANNELS = {GENERAL: "general", SAAS_USAGE: "saas-usage"}
HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET = "demo-hubspot-client", "demo-hubspot-secret"
SENDGRID_ACCOUNT = "acme"
SENDGRID_SCOPES = [scope.name for scope in SENDGRID.scopes]  # every scope the modal asks for
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SLACK_CREDENTIALS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    role: str
    flags: Mapping[str, bool]

    @property
    def mention(self) -> str:
        return f"<@{self.user_id}|{self.name.lower()}>"


ADA = Person("UADA00001", "Ada", "Slack admin", {"is_admin": True})
MAX = Person("UMAX00002", "Max", "member", {})
DANA = Person("UDANA0003", "Dana", "SendGrid admin", {})
PEOPLE = (ADA, MAX, DANA)


def refuse_real_slack(environ: Mapping[str, str]) -> str | None:
    """Why the sandbox must not start in this environment, or None. It only ever talks to its own
    stand-ins: Slack credentials, or SLACK_API_URL off loopback, mean someone's real Slack is configured."""
    for name in SLACK_CREDENTIALS:
        if environ.get(name):
            return (
                f"{name} is set, so this shell is configured for a real Slack app; the demo only talks to "
                f"its own stand-ins on 127.0.0.1. Run it without the SLACK_* variables (e.g. `env -u {name} ...`)."
            )
    url = environ.get("SLACK_API_URL")
    if url and urlparse(url).hostname not in LOOPBACK:
        return f"SLACK_API_URL points at {urlparse(url).hostname}; the demo only runs against 127.0.0.1."
    return None


class SandboxEnv:
    """Start with `start()`, stop with `stop()` (or use it as a context manager)."""

    def __init__(self, *, data_dir: Path | None = None) -> None:
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="quolum-demo-")
        self.data_dir = data_dir or Path(self._tmp.name)
        self.signing_secret = secrets.token_hex(16)
        self.clock = SandboxClock()  # the bot and the provider stand-ins read it; the demo moves it on
        self.slack = SlackStandIn()
        self.hubspot = HubSpotStandIn(
            client_id=HUBSPOT_CLIENT_ID,
            client_secret=HUBSPOT_CLIENT_SECRET,
            clock=lambda: self.clock().timestamp(),
        )
        self.sendgrid = SendGridStandIn(clock=self.clock)
        self._servers: list[ThreadedServer] = []
        self.browser = httpx.Client(timeout=10)
        self.server: ThreadedServer | None = None
        self.slack_log: list[dict] = []  # every message as people see it: {"where", "who", "message", "ts"}

    # --- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> SandboxEnv:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def names(self) -> dict[str, str]:
        """user or channel id -> the name Slack shows (people, the bot, the channels)."""
        return {
            **{p.user_id: p.name for p in PEOPLE},
            self.slack.workspaces[TEAM_ID].bot_user_id: "Quolum",
            **CHANNELS,
        }

    def _serve(self, app) -> ThreadedServer:
        server = ThreadedServer(app).start()
        self._servers.append(server)
        return server

    def start(self) -> SandboxEnv:
        self._seed()
        for standin in (self.slack, self.hubspot, self.sendgrid):
            standin.url = self._serve(standin.app).url
        settings = self.settings()
        asyncio.run(self._install(settings))
        from bot.web import create_app

        server = ThreadedServer(None, lifespan="on")  # bind first: the public URL is the server's own
        self.bot_settings = settings.with_overrides(public_url=server.url)
        self.bot_app = create_app(self.bot_settings, clock=self.clock)
        server.app = self._loop_of = _LoopOf(self.bot_app)
        self.server = server.start()
        self._servers.append(server)
        return self

    def stop(self) -> None:
        self.browser.close()
        for server in reversed(self._servers):
            try:
                server.stop()
            except Exception:  # a stand-in that is already down has nothing left to stop
                pass
        self._servers.clear()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _seed(self) -> None:
        ws = self.slack.add_workspace(TEAM_ID, TEAM_NAME)
        for channel_id, name in CHANNELS.items():
            self.slack.add_channel(channel_id, name, team_id=TEAM_ID)
        for person in PEOPLE:
            self.slack.add_user(
                person.user_id, TEAM_ID, name=person.name.lower(), real_name=person.name, **person.flags
            )
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.hubspot.add_portal(
            generate_portal(
                14,
                portal_id=4242,
                start=end - timedelta(days=28),
                end=end,
                n_users=12,
                records_per_type=40,
                logins_per_user=6,
                domain="acme.hubspot.example",
            )
        )
        self.sendgrid.account = generate_account(
            14,
            account_id=SENDGRID_ACCOUNT,
            start=end.date() - timedelta(days=28),
            end=end.date(),
            n_teammates=6,
        )
        self.sendgrid.add_account(self.sendgrid.account)
        self.bot_token = ws.bot_token

    def settings(self):
        from bot.core.config import Settings
        from storage.crypto import generate_key

        return Settings(
            signing_secret=self.signing_secret,
            client_id=self.slack.client_id,
            client_secret=self.slack.client_secret,
            slack_api_url=f"{self.slack.url}/api/",
            public_url="http://127.0.0.1",
            data_dir=self.data_dir,
            database_url=f"sqlite+aiosqlite:///{self.data_dir / 'quolum.db'}",
            encryption_keys=(generate_key(),),
            scheduler_enabled=False,
            log_level="WARNING",
            hubspot_client_id=HUBSPOT_CLIENT_ID,
            hubspot_client_secret=HUBSPOT_CLIENT_SECRET,
            hubspot_api_url=self.hubspot.url,
            hubspot_authorize_url=f"{self.hubspot.url}/oauth/authorize",
            sendgrid_api_url=self.sendgrid.url,
        )

    async def _install(self, settings) -> None:
        """Migrate the database and record the demo workspace's installation, as Slack's OAuth would."""
        from bot.web import build_storage

        storage = build_storage(settings, replica_id="sandbox-setup")
        try:
            await storage.db.upgrade()
            await storage.installations.async_save(installation(self.slack, TEAM_ID, ADA.user_id))
        finally:
            await storage.db.dispose()

    # --- acting as Slack -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def _post(self, body: str, content_type: str = "application/x-www-form-urlencoded") -> httpx.Response:
        headers = sr.signed_headers(body, secret=self.signing_secret, content_type=content_type)
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def command(
        self,
        person: Person,
        text: str,
        channel_id: str = GENERAL,
        hook: str | None = None,
        trigger_id: str | None = None,
    ) -> tuple[httpx.Response, str]:
        """`/quolum text` typed by `person`; returns the HTTP answer and the command's response_url."""
        hook = hook or self.slack.response_url()
        body = sr.command(
            text,
            team_id=TEAM_ID,
            user_id=person.user_id,
            channel_id=channel_id,
            response_url=hook,
            trigger_id=trigger_id or new_trigger(),
        )
        return self._post(body), hook

    def click(
        self,
        person: Person,
        action_id: str,
        value: str = "",
        *,
        container: dict | None = None,
        trigger_id: str | None = None,
        hook: str | None = None,
        element: str = "button",
    ) -> str | None:
        """A button click or a select's choice (block_actions); returns the response_url the bot may answer through (none for
        a click in App Home, as Slack sends none there)."""
        in_home = (container or {}).get("type") == "view"  # App Home clicks come without a response_url
        hook = None if in_home else hook or self.slack.response_url()
        body = sr.action(
            action_id,
            value=value,
            team_id=TEAM_ID,
            user_id=person.user_id,
            response_url=hook,
            element=element,
            extra={
                "trigger_id": trigger_id or new_trigger(),
                **({"container": container} if container else {}),
            },
        )
        response = self._post(body)
        if response.status_code != 200:
            raise StepFailed(f"Slack would show an error: the bot answered {response.status_code} to a click")
        return hook

    def submit_view(self, person: Person, view: dict, values: dict) -> httpx.Response:
        """A view_submission for `view` (as the bot opened it) with the state `values`."""
        body = sr.view_submission(
            view, values, team_id=TEAM_ID, user_id=person.user_id, username=person.name.lower()
        )
        return self._post(body)

    def event(self, event: dict) -> httpx.Response:
        body = sr.event(event, team_id=TEAM_ID, event_id=f"Ev{secrets.token_hex(6).upper()}")
        return self._post(body, content_type="application/json")

    # --- acting as the bot's own scheduler ----------------------------------------------------
    def on_server(self, work: Callable[[object], Awaitable[object]], timeout: float = 20.0):
        """Run `work(services)` on the bot server's event loop (its storage and HTTP client live there)."""
        loop = self._loop_of.loop
        if loop is None:
            raise StepFailed("the bot server has not started")
        future = asyncio.run_coroutine_threadsafe(work(self.bot_app.state.services), loop)
        return future.result(timeout)

    def run_job(self, name: str, now: datetime | None = None) -> bool:
        """Run the scheduler's job `name` once, as it would fire at `now` (default: now)."""
        scheduler = self.bot_app.state.scheduler
        return self.on_server(lambda services: scheduler.run_once(name, now=now))

    # --- what Slack received from the bot ------------------------------------------------------
    def response(self, hook: str, timeout: float = 8.0) -> dict:
        """The (last) message the bot sent to `hook` (a response_url)."""
        hook_id = hook.rsplit("/", 1)[1]
        return until(
            lambda: ([r for r in self.slack.responses if r["hook"] == hook_id] or [None])[-1], timeout
        )

    def calls_after(self, method: str, mark: int) -> list[Call]:
        return [c for c in self.slack.calls[mark:] if c.method == method]

    def mark(self) -> int:
        return len(self.slack.calls)

    # --- acting as a browser -------------------------------------------------------------------
    def follow_connect_link(self, url: str, decision: str = "approve") -> tuple[str, httpx.Response]:
        """Open the Connect link, read HubSpot's consent page, decide, and land on the bot's page."""
        start = self.browser.get(url)
        if start.status_code != 302:
            raise StepFailed(f"the Connect link answered {start.status_code}: {page_text(start.text)[:200]}")
        consent_url = start.headers["location"]
        if not consent_url.startswith(self.hubspot.url):
            raise StepFailed(f"the Connect link sent the browser to {consent_url}, not to HubSpot")
        consent = self.browser.get(consent_url)
        params = {k: v[0] for k, v in parse_qs(urlparse(consent_url).query).items()}
        back = self.browser.post(
            f"{self.hubspot.url}/oauth/authorize/decision", data={**params, "decision": decision}
        )
        if back.status_code != 302:
            raise StepFailed(f"HubSpot's consent page answered {back.status_code}")
        return page_text(consent.text), self.browser.get(back.headers["location"])


class SandboxClock:
    """Real time, from wherever the story last moved it: `move_to(t)` jumps to `t` (a scheduled send) and
    real seconds keep passing from there, so rate-limit windows and leases still move on."""

    def __init__(self) -> None:
        self._base, self._t0 = datetime.now(UTC), time.monotonic()

    def __call__(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    def move_to(self, when: datetime) -> None:
        if when < self():
            raise ValueError("the sandbox's time only moves forward")
        self._base, self._t0 = when, time.monotonic()


class _LoopOf:
    """The bot's ASGI app, remembering the event loop it is served on, so the demo can run scheduled jobs
    there as the server's own scheduler would (its database engine and HTTP client belong to that loop)."""

    def __init__(self, app) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope, receive, send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


class StepFailed(Exception):
    """A step did not do what it should; the message says what a person would have seen instead."""


def installation(slack: SlackStandIn, team_id: str, installer: str):
    """The Installation Slack's OAuth flow would store for a stand-in workspace."""
    from slack_sdk.oauth.installation_store.models.installation import Installation

    ws = slack.workspaces[team_id]
    return Installation(
        app_id="A0QUOLUM",
        team_id=ws.team_id,
        team_name=ws.name,
        bot_token=ws.bot_token,
        bot_id=ws.bot_id,
        bot_user_id=ws.bot_user_id,
        bot_scopes="commands,chat:write,chat:write.public,im:write,users:read,users:read.email,channels:read,groups:read",
        user_id=installer,
    )


def new_trigger() -> str:
    return f"{time.time():.0f}.{secrets.token_hex(6)}"


_pause = threading.Event()  # never set: waiting on it is a sleep that runs on the monotonic clock


def until(probe: Callable[[], object], timeout: float = 8.0):
    """Poll `probe` until it returns something truthy: the bot answers Slack first and works after."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"nothing arrived in Slack within {timeout:.0f} s")
        _pause.wait(0.02)  # not time.sleep: under libfaketime (CI's moved-clock run) it fails with EINVAL


def page_text(html: str) -> str:
    """The visible text of a small HTML page (title and body), for the terminal."""
    import re
    from html import unescape

    html = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
