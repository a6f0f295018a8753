"""A whole sandbox on 127.0.0.1: the Slack, HubSpot and SendGrid stand-ins and the real bot server.

`SandboxEnv` starts the stand-ins (seeded by workspace.seed, deterministic, port 0), a SQLite database
in a temporary data directory with the demo workspace installed, and `bot.web.create_app` under
uvicorn, all on one movable clock (clock.py); then it acts as Slack does towards the bot (signed slash
commands, interaction payloads, events) and as a person's browser does (the Connect link, HubSpot's
consent page). The demo and the sandbox page both drive it.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from sandbox import slack_requests as sr
from sandbox.clock import SandboxClock, StepFailed, until
from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.sandboxed import Sandboxed, discover
from sandbox.standins.sendgrid import SendGridStandIn
from sandbox.standins.server import ThreadedServer
from sandbox.standins.slack import Call, SlackStandIn
from sandbox.workspace import (
    CHANNELS,
    GENERAL,
    HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET,
    PEOPLE,
    TEAM_ID,
    Person,
    install,
    seed,
    settings_for,
)


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
        # every other provider's stand-in, found by its `*_sandbox` module (standins/sandboxed.py)
        self.sandboxed: dict[str, Sandboxed] = {s.key: s for s in discover()}
        self.standins = {
            key: self.slack if s.on_slack else s.make(self.clock) for key, s in self.sandboxed.items()
        }
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
        seed(self.slack, self.hubspot, self.sendgrid)
        for key, standin in self.standins.items():
            self.sandboxed[key].seed(standin, self.clock())
        others = [s for s in self.standins.values() if s is not self.slack]  # the Slack one is served once
        for standin in (self.slack, self.hubspot, self.sendgrid, *others):
            standin.url = self._serve(standin.app).url
        settings = settings_for(
            signing_secret=self.signing_secret,
            data_dir=self.data_dir,
            slack=self.slack,
            hubspot=self.hubspot,
            sendgrid=self.sendgrid,
            more={
                k: v for key, s in self.sandboxed.items() for k, v in s.settings(self.standins[key]).items()
            },
        )
        asyncio.run(install(settings, self.slack))
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
        state: dict | None = None,
        view: dict | None = None,
    ) -> str | None:
        """A button click or a select's choice (block_actions); returns the response_url the bot may answer through (none for
        a click in App Home, as Slack sends none there). `state` is what the message's inputs hold, as Slack
        sends it with the click ({"values": {block_id: {action_id: {...}}}}); `view`, the modal clicked in."""
        in_home = (container or {}).get("type") == "view" or view is not None  # no response_url in views
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
                **({"state": state} if state else {}),
                **({"view": view, "container": {"type": "view", "view_id": view["id"]}} if view else {}),
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
    def follow_grant_link(self, url: str) -> httpx.Response:
        """Open a credential form's grant link (`ProviderSpec.grant`): the bot's start page, the
        provider's consent page (the stand-in approves as its consenting admin), back to the bot's page."""
        start = self.browser.get(url)
        if start.status_code != 302:
            raise StepFailed(f"the grant link answered {start.status_code}: {page_text(start.text)[:200]}")
        consent = self.browser.get(start.headers["location"])
        if consent.status_code != 302:
            raise StepFailed(f"the consent page answered {consent.status_code}")
        return self.browser.get(consent.headers["location"])

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


class _LoopOf:
    """The bot's ASGI app, remembering the event loop it is served on, so the demo can run scheduled jobs
    there as the server's own scheduler would (its database engine and HTTP client belong to that loop)."""

    def __init__(self, app) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope, receive, send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


def new_trigger() -> str:
    return f"{time.time():.0f}.{secrets.token_hex(6)}"


def page_text(html: str) -> str:
    """The visible text of a small HTML page, for the terminal: the body only (the title is not on the
    page), one line per heading, paragraph or list item."""
    import re
    from html import unescape

    html = re.sub(r"(?is)<(head|script|style)[^>]*>.*?</\1>", " ", html)
    html = re.sub(
        r"(?i)</?(h[1-6]|p|li|ul|ol|div|tr|table|form|section|header|footer|br|label)\b[^>]*>", "\n", html
    )
    lines = (" ".join(unescape(re.sub(r"<[^>]+>", " ", line)).split()) for line in html.splitlines())
    return "\n".join(line for line in lines if line)
