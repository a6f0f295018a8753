"""The sandbox Slack page (`quolum-bot demo --open`): a small Slack client for the sandbox, on 127.0.0.1.

It shows channels and the bot's DMs with what the bot posted (from the Slack stand-in's history), the
answers only the person sees (command replies and response_url messages), modals and App Home, all
drawn by render_html. What a person does goes to the real server as Slack would send it: the message
box sends `/quolum …` as a signed slash command, buttons and menus as signed block_actions, a modal's
Submit as a signed view_submission; link buttons open their page (the HubSpot stand-in's consent page).
"""

from __future__ import annotations

import itertools
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.clock import StepFailed
from sandbox.environment import SandboxEnv, new_trigger
from sandbox.render_html import message_html, mrkdwn_html, view_html
from sandbox.render_terminal import with_dates, with_names
from sandbox.standins.sandboxed import sidebar
from sandbox.standins.server import ThreadedServer
from sandbox.workspace import CHANNELS, GENERAL, PEOPLE, Person, demo_keys

PAGE = Path(__file__).with_name("page.html")
# Headless Chromium on 127.0.0.1 only: without the networking flags it keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AT_NAME = re.compile(r"(?<![<\w])@([a-z][a-z0-9._-]*)", re.IGNORECASE)
HASH_NAME = re.compile(r"(?<![<\w])#([a-z0-9][a-z0-9_-]*)", re.IGNORECASE)


@dataclass
class Entry:
    """Something only one person sees: a command's reply, a response_url message."""

    id: str
    conv: str
    user: str
    message: dict
    ts: float = field(default_factory=time.time)


@dataclass
class Modal:
    view_id: str
    errors: dict = field(default_factory=dict)


class SlackUI:
    """What each person's Slack shows, kept from what the bot sent to the Slack stand-in."""

    def __init__(self, env: SandboxEnv) -> None:
        self.env = env
        self.people = {p.user_id: p for p in PEOPLE}
        self.entries: list[Entry] = []
        self.hooks: dict[str, tuple[str, str, str | None]] = {}  # hook id -> (user, conv, entry/message id)
        self.triggers: dict[str, str] = {}  # trigger id -> user
        self.modals: dict[str, Modal] = {}  # user -> the modal open for them
        self.overrides: dict[str, dict | None] = {}  # posted message id -> replaced (None: deleted)
        self._responses_seen = 0
        self._views_seen: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.sendgrid_keys = demo_keys(env.sendgrid) + sidebar(env.sandboxed, env.standins)

    # --- following what the bot sent ------------------------------------------------------------
    def sync(self) -> None:
        slack = self.env.slack
        with self._lock:
            for response in slack.responses[self._responses_seen :]:
                self._on_response(response)
            self._responses_seen = len(slack.responses)
            for view_id, view in list(slack.views.items()):
                if view_id not in self._views_seen:
                    self._views_seen.add(view_id)
                    owner = self.triggers.get(view.get("trigger_id", ""))
                    if owner:
                        self.modals[owner] = Modal(view_id)

    def _on_response(self, response: dict) -> None:
        origin = self.hooks.get(response.get("hook", ""))
        if origin is None:
            return
        user, conv, target = origin
        message = {k: v for k, v in response.items() if k in ("text", "blocks")}
        if response.get("delete_original") and target:
            self._replace(target, None)
        elif response.get("replace_original") and target:
            self._replace(target, message)
        else:
            self.entries.append(Entry(f"e{next(self._ids)}", conv, user, message))

    def _replace(self, target: str, message: dict | None) -> None:
        for entry in self.entries:
            if entry.id == target:
                if message is None:
                    self.entries.remove(entry)
                else:
                    entry.message = message
                return
        self.overrides[target] = message

    # --- what one person sees -----------------------------------------------------------------
    def conversations(self, user: str) -> list[dict]:
        return [
            *({"id": cid, "name": f"# {name}"} for cid, name in CHANNELS.items()),
            {"id": f"dm:{user}", "name": "Quolum (DM)"},
        ]

    def _as_seen_by(self, user: str, message: dict) -> dict:
        """`message` as `user` reads it: people and channels by name, dates in the zone of their Slack
        profile (the stand-in's `tz`), as Slack draws `<!date^…>` for each reader."""
        tz = ZoneInfo(self.env.slack.users.get(user, {}).get("tz") or "UTC")
        return with_dates(with_names(message, self.env.names), tz, self.env.clock().astimezone(tz).date())

    def messages(self, user: str, conv: str) -> list[dict]:
        out = []
        for posted in self.env.slack.messages:
            channel = posted["channel"]
            where = f"dm:U{channel[1:]}" if channel[:1] in ("U", "D") else channel
            if where != conv:
                continue
            message_id = f"m{channel}:{posted['ts']}"
            message = self.overrides.get(message_id, posted)
            if message is not None:
                out.append((float(posted["ts"]), message_id, message, False))
        for entry in self.entries:
            if entry.conv == conv and entry.user == user:
                out.append((entry.ts, entry.id, entry.message, True))
        return [
            {
                "id": message_id,
                "ephemeral": ephemeral,
                "from": "Quolum",
                "html": message_html(self._as_seen_by(user, message)),
            }
            for _, message_id, message, ephemeral in sorted(out, key=lambda m: m[0])
        ]

    def state(self, user: str, conv: str) -> dict:
        self.sync()
        with self._lock:
            modal = self.modals.get(user)
            view = self.env.slack.views.get(modal.view_id) if modal else None
            home = self.env.slack.home_views.get(user)
            return {
                "people": [{"id": p.user_id, "name": f"{p.name} ({p.role})"} for p in PEOPLE],
                "keys": self.sendgrid_keys,
                "conversations": self.conversations(user),
                "messages": self.messages(user, conv) if conv != "home" else [],
                "modal": {"id": modal.view_id, "html": view_html(self._as_seen_by(user, view), modal.errors)}
                if view
                else None,
                "home": view_html(self._as_seen_by(user, home)) if home else None,
            }

    # --- what a person does -------------------------------------------------------------------
    def _person(self, user: str) -> Person:
        if user not in self.people:
            raise StepFailed(f"nobody called {user} in this sandbox")
        return self.people[user]

    def _channel(self, conv: str, user: str) -> str:
        return "D" + user[1:] if conv.startswith("dm:") or conv == "home" else conv

    def command(self, user: str, conv: str, text: str) -> dict:
        person = self._person(user)
        text = text.strip()
        if not text.startswith("/quolum"):
            return {"error": "In the sandbox, type a command: `/quolum help`, `/quolum connect`…"}
        # as Slack escapes them for a command with should_escape (the manifest's): <@U…|name>, <#C…|name>
        args = AT_NAME.sub(self._mention, text[len("/quolum") :].strip())
        args = HASH_NAME.sub(self._channel_ref, args)
        hook = self.env.slack.response_url()
        trigger = new_trigger()
        with self._lock:
            self.triggers[trigger] = user
            self.hooks[hook.rsplit("/", 1)[1]] = (user, conv, None)
        response, _ = self.env.command(
            person, args, channel_id=self._channel(conv, user), hook=hook, trigger_id=trigger
        )
        if response.status_code != 200:
            return {"error": f'/quolum failed with the error "{response.status_code}" (as Slack says it)'}
        reply = command_reply(response)
        if reply.get("text") or reply.get("blocks"):
            with self._lock:
                entry = Entry(f"e{next(self._ids)}", conv, user, reply)
                self.entries.append(entry)
                self.hooks[hook.rsplit("/", 1)[1]] = (user, conv, entry.id)
        return {"ok": True}

    def _channel_ref(self, match: re.Match) -> str:
        for channel_id, name in CHANNELS.items():
            if name == match.group(1).lower():
                return f"<#{channel_id}|{name}>"
        return match.group(0)

    def _mention(self, match: re.Match) -> str:
        for person in PEOPLE:
            if person.name.lower() == match.group(1).lower():
                return person.mention
        return match.group(0)

    def action(
        self,
        user: str,
        conv: str,
        message_id: str | None,
        action_id: str,
        value: str,
        element: str = "button",
        state: dict | None = None,
    ) -> dict:
        person = self._person(user)
        hook = self.env.slack.response_url()
        trigger = new_trigger()
        with self._lock:
            self.triggers[trigger] = user
            self.hooks[hook.rsplit("/", 1)[1]] = (user, conv, message_id)
        where = {"container": {"type": "view", "view_id": "home"} if conv == "home" else {"type": "message"}}
        state = state if isinstance(state, dict) else None  # what the message's multi-selects hold
        self.env.click(
            person, action_id, value, trigger_id=trigger, hook=hook, element=element, state=state, **where
        )
        return {"ok": True}

    def submit(self, user: str, values: dict[str, object]) -> dict:
        person = self._person(user)
        with self._lock:
            modal = self.modals.get(user)
            view = self.env.slack.views.get(modal.view_id) if modal else None
        if view is None:
            return {"error": "no modal is open"}
        state: dict[str, dict] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            key = f"{block.get('block_id')}/{element.get('action_id')}"
            state.setdefault(block["block_id"], {})[element["action_id"]] = _state_of(
                element, values.get(key)
            )
        response = self.env.submit_view(person, view, state)
        if response.status_code != 200:
            return {"error": f"Slack would say: We had some trouble connecting ({response.status_code})."}
        answer = response.json() if response.content else {}
        with self._lock:
            if answer.get("response_action") == "errors":
                modal.errors = answer.get("errors", {})
            elif answer.get("response_action") in ("update", "push"):
                self.env.slack.views[modal.view_id] = {
                    **answer["view"],
                    "id": modal.view_id,
                    "trigger_id": "",
                }
                modal.errors = {}
            else:
                self.modals.pop(user, None)
        return {"ok": True}

    def close(self, user: str) -> dict:
        with self._lock:
            self.modals.pop(user, None)
        return {"ok": True}

    def open_home(self, user: str) -> dict:
        response = self.env.event(
            {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
        )
        return {"ok": response.status_code == 200}


def command_reply(response) -> dict:
    """The message a slash command's HTTP answer shows: its JSON, or (Bolt's `ack("text")`) its plain text,
    which Slack shows as an ephemeral message too; {} for an empty answer (the reply comes by response_url)."""
    if not response.content:
        return {}
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return {"text": response.text}


def _state_of(element: dict, value) -> dict:
    """A view_submission's state entry for `element` with the submitted `value`, as Slack builds it."""
    kind = element.get("type")
    if kind == "plain_text_input":
        return {"type": kind, "value": value or None}
    options = {o.get("value"): o for o in element.get("options", [])}
    if kind in ("radio_buttons", "static_select"):
        return {"type": kind, "selected_option": options.get(value)}
    if kind == "checkboxes":
        chosen = value if isinstance(value, list) else [value] if value else []
        return {"type": kind, "selected_options": [options[v] for v in chosen if v in options]}
    return {"type": kind, "value": value}


def noticed(answer: dict) -> dict:
    """`answer` with its error also as the HTML the page shows under the messages (`code` drawn as code)."""
    return {**answer, "notice": mrkdwn_html(answer["error"])} if answer.get("error") else answer


def create_page_app(env: SandboxEnv) -> Starlette:
    ui = SlackUI(env)

    async def index(request: Request) -> Response:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    async def state(request: Request) -> Response:
        user = request.query_params.get("user") or PEOPLE[0].user_id
        conv = request.query_params.get("conv") or GENERAL
        return JSONResponse(await run_in_threadpool(ui.state, user, conv))

    def post(handler):
        async def endpoint(request: Request) -> Response:
            try:
                body = await request.json()
                return JSONResponse(noticed(await run_in_threadpool(handler, body)))
            except (ValueError, KeyError, TypeError):
                return JSONResponse(
                    noticed({"error": "That request is not one the sandbox page sends."}), status_code=400
                )
            except StepFailed as error:
                return JSONResponse(noticed({"error": str(error)}), status_code=400)

        return endpoint

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/command", post(lambda b: ui.command(b["user"], b["conv"], b["text"])), methods=["POST"]),
        Route(
            "/api/action",
            post(
                lambda b: ui.action(
                    b["user"],
                    b["conv"],
                    b.get("message"),
                    b["action_id"],
                    b.get("value", ""),
                    "conversations_select" if b.get("element") == "conversations_select" else "button",
                    b.get("state"),
                )
            ),
            methods=["POST"],
        ),
        Route("/api/submit", post(lambda b: ui.submit(b["user"], b.get("values", {}))), methods=["POST"]),
        Route("/api/close", post(lambda b: ui.close(b["user"])), methods=["POST"]),
        Route("/api/home", post(lambda b: ui.open_home(b["user"])), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.ui = ui
    return app


def start_page(env: SandboxEnv, port: int = 0) -> ThreadedServer:
    """Serve the page for `env` on 127.0.0.1 (port 0: any free port); stop it with `.stop()`."""
    return ThreadedServer(create_page_app(env), port=port).start()


def serve_page(env: SandboxEnv, console, *, port: int = 0) -> None:
    """Serve the page until Ctrl-C."""
    server = start_page(env, port)
    console.print(
        f"\nThe sandbox Slack is at {server.url}/ (only on this machine). Play the story yourself: type "
        "`/quolum connect` and click Connect. Ctrl-C stops everything.",
        markup=False,
        highlight=False,
    )
    stop = threading.Event()
    # Handlers of our own, not Python's KeyboardInterrupt: a process started with SIGINT ignored (run
    # in the background by a shell, or from a test runner's worker) inherits that, and Python then
    # installs no KeyboardInterrupt, so Ctrl-C would never stop the page. SIGTERM stops it too.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
