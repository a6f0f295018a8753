"""A stand-in for Slack's Web API (and response_url webhooks, and Socket Mode) on 127.0.0.1.

It answers as Slack does: HTTP 200 with `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`, HTTP 429 with `Retry-After` when asked to,
form-encoded or JSON arguments, the token in the Authorization header or the
`token` field. Every call is recorded (with the token's last 4 characters only)
so tests can assert on what the bot sent. Socket Mode's WebSocket side is in slack_socket.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from sandbox.standins.faults import FaultInjector
from sandbox.standins.slack_messages import MessagesMixin
from sandbox.standins.slack_socket import SocketModeServer

NO_AUTH_METHODS = {"oauth.v2.access", "oauth.v2.exchange", "api.test"}
APP_LEVEL_METHODS = {"apps.connections.open"}  # app-level tokens (xapp-) only


@dataclass
class Call:
    method: str
    args: dict
    token: str | None = field(repr=False)


@dataclass
class Channel:
    id: str
    name: str
    team_id: str
    is_private: bool = False
    is_member: bool = False  # public channels take posts anyway (chat:write.public)
    is_archived: bool = False

    def info(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_member": self.is_member,
            "context_team_id": self.team_id,
        }


class ChannelRate:
    """chat.postMessage's limit: about one message per second per channel, with a short burst
    (a token bucket); beyond it Slack answers HTTP 429 with Retry-After in whole seconds."""

    def __init__(self, per_second: float = 1.0, burst: int = 3, clock=time.monotonic) -> None:
        self.per_second, self.burst, self.clock = per_second, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def take(self, channel: str) -> float:
        """0 when the post may go; else the seconds until it could."""
        now = self.clock()
        tokens, at = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens >= 1:
            self._buckets[channel] = (tokens - 1, now)
            return 0.0
        self._buckets[channel] = (tokens, now)
        return (1 - tokens) / self.per_second


@dataclass
class Workspace:
    team_id: str
    name: str
    enterprise_id: str | None = None
    bot_user_id: str = "UBOT0001"
    bot_id: str = "BBOT0001"
    bot_token: str = ""
    # what the bot token was granted; Slack names them in the x-oauth-scopes header of every answer
    scopes: str = (
        "commands,chat:write,chat:write.public,im:write,users:read,users:read.email,channels:read,groups:read"
    )


class SlackStandIn(MessagesMixin):
    def __init__(self, *, client_id: str = "1111.2222", client_secret: str = "slack-client-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.faults = FaultInjector()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.calls: list[Call] = []
        self.responses: list[dict] = []  # bodies POSTed to response_url webhooks
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.revoked: set[str] = set()
        self.users: dict[str, dict] = {}
        self.codes: dict[str, str] = {}  # oauth code -> team id
        self.channels: dict[str, Channel] = {}
        self.posts: dict[str, list[dict]] = {}  # channel -> messages posted there (accepted only)
        self.refusing: dict[str, str] = {}  # channel -> the error chat.postMessage answers
        self.rate: ChannelRate | None = ChannelRate()  # None: no per-channel rate limit
        self.rate_limited = 0  # 429s answered by the per-channel limit
        self.latency = 0.0  # seconds every Web API call waits before answering (benchmarks)
        self.home_views: dict[str, dict] = {}  # user id -> the App Home view last published
        self.views: dict[str, dict] = {}  # modals opened (views.open) by id, with their trigger_id
        self.home_tab_enabled = True  # the manifest's features.app_home.home_tab_enabled
        self._errors: dict[str, list[tuple[str, int, dict]]] = {}
        self.socket = SocketModeServer(self)  # Socket Mode: app tokens, the WebSocket, envelopes and acks
        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/response/{hook}", self._response_url, methods=["POST"]),
                WebSocketRoute("/link/", self.socket.endpoint),
            ]
        )
        self.url = ""  # set by the fixture once served

    @property
    def messages(self) -> list[dict]:
        """Every message posted (top level and replies), oldest first: what the sandbox page shows."""
        with self._lock:
            return sorted(self._messages().values(), key=lambda m: float(m["ts"]))

    # --- test set-up -------------------------------------------------------
    def add_workspace(
        self, team_id: str = "T0001", name: str = "Acme", enterprise_id: str | None = None
    ) -> Workspace:
        ws = Workspace(team_id=team_id, name=name, enterprise_id=enterprise_id)
        ws.bot_token = f"xoxb-{team_id}-{secrets.token_hex(12)}"
        with self._lock:
            self.workspaces[team_id] = ws
            self.tokens[ws.bot_token] = team_id
        self.add_channel("C" + team_id[1:], "general", team_id=team_id)
        return ws

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        team_id: str = "T0001",
        private: bool = False,
        member: bool = False,
        archived: bool = False,
    ) -> Channel:
        channel = Channel(channel_id, name or channel_id.lower(), team_id, private, member, archived)
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    def refuse_channel(self, channel_id: str, error: str = "not_in_channel") -> None:
        """chat.postMessage to this channel answers `error` from now on (not_in_channel, channel_not_found...)."""
        with self._lock:
            self.refusing[channel_id] = error

    def posts_to(self, channel_id: str) -> list[dict]:
        with self._lock:
            return list(self.posts.get(channel_id, []))

    def add_user(self, user_id: str, team_id: str = "T0001", **flags) -> dict:
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": flags.pop("name", user_id.lower()),
            "real_name": flags.pop("real_name", f"User {user_id}"),
            "deleted": False,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "tz": "Europe/Berlin",
            "profile": {"email": f"{user_id.lower()}@example.com", "display_name": user_id.lower()},
        }
        user.update(flags)
        with self._lock:
            self.users[user_id] = user
        return user

    def issue_code(self, team_id: str) -> str:
        code = f"code-{secrets.token_hex(8)}"
        with self._lock:
            self.codes[code] = team_id
        return code

    def fail_next(self, method: str, error: str, *, count: int = 1, status: int = 200, headers=None) -> None:
        """The next `count` calls of `method` answer `{"ok": false, "error": error}` (or HTTP `status`)."""
        with self._lock:
            self._errors.setdefault(method, []).extend([(error, status, dict(headers or {}))] * count)

    def rate_limit_next(self, method: str, *, retry_after: int = 1, count: int = 1) -> None:
        self.fail_next(
            method, "ratelimited", count=count, status=429, headers={"Retry-After": str(retry_after)}
        )

    def revoke(self, token: str) -> None:
        with self._lock:
            self.revoked.add(token)

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # --- HTTP ----------------------------------------------------------------
    async def _args(self, request: Request) -> dict:
        args = dict(request.query_params)
        body = await request.body()
        if not body:
            return args
        if request.headers.get("content-type", "").startswith("application/json"):
            args.update(json.loads(body))
        else:
            args.update(parse_qsl(body.decode(), keep_blank_values=True))
        for key in ("blocks", "view", "attachments"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        injected = await self.faults.apply(f"/api/{method}")
        if injected is not None:
            return injected
        args = await self._args(request)
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else args.pop("token", None)
        if auth.lower().startswith("basic "):  # oauth.v2.access: client credentials by HTTP Basic auth
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            args.setdefault("client_id", client_id)
            args.setdefault("client_secret", client_secret)
        with self._lock:
            self.calls.append(Call(method, args, token))
            queued = self._errors.get(method)
            error = queued.pop(0) if queued else None
        if error is not None:
            code, status, headers = error
            return JSONResponse({"ok": False, "error": code}, status_code=status, headers=headers)
        if method in APP_LEVEL_METHODS:
            if request.method != "POST":
                return _fail("insecure_request")
            app_error = self.socket.check_app_token(token, in_header=auth.lower().startswith("bearer "))
            if app_error is not None:
                return _fail(app_error)
            return self.m_apps_connections_open(args, token)
        if method not in NO_AUTH_METHODS:
            if not token:
                return _fail("not_authed")
            if token in self.revoked:
                return _fail("token_revoked")
            if token in self.socket.app_tokens:
                return _fail("not_allowed_token_type")
            if token not in self.tokens:
                return _fail("invalid_auth")
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return _fail("unknown_method")
        if self.latency:
            await asyncio.sleep(self.latency)
        team_id = self.tokens.get(token or "")
        ws = self.workspaces.get(team_id) if team_id else None
        response = handler(args, ws)
        if ws is not None:
            response.headers["x-oauth-scopes"] = ws.scopes
        return response

    async def _response_url(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        with self._lock:
            self.responses.append({"hook": request.path_params["hook"], **body})
        return PlainTextResponse("ok")

    # --- methods --------------------------------------------------------------
    def m_api_test(self, args, ws):
        return _ok(args=args)

    def m_apps_connections_open(self, args, app_token: str):
        return _ok(url=self.socket.issue_url(app_token))

    def m_auth_test(self, args, ws):
        return _ok(
            url=f"https://{ws.name.lower()}.slack.com/",
            team=ws.name,
            user="quolum",
            team_id=ws.team_id,
            user_id=ws.bot_user_id,
            bot_id=ws.bot_id,
            enterprise_id=ws.enterprise_id,
            is_enterprise_install=False,
        )

    def m_oauth_v2_access(self, args, ws):
        if args.get("client_id") != self.client_id or args.get("client_secret") != self.client_secret:
            return _fail(
                "invalid_client_id" if args.get("client_id") != self.client_id else "bad_client_secret"
            )
        with self._lock:
            team_id = self.codes.pop(args.get("code", ""), None)
        if team_id is None:
            return _fail("invalid_code")
        ws = self.workspaces[team_id]
        return _ok(
            app_id="A0QUOLUM",
            authed_user={"id": "UINSTALLER"},
            scope=ws.scopes,
            token_type="bot",
            access_token=ws.bot_token,
            bot_user_id=ws.bot_user_id,
            team={"id": ws.team_id, "name": ws.name},
            enterprise=None,
            is_enterprise_install=False,
        )

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def m_chat_postMessage(self, args, ws):
        channel_id = args.get("channel") or ""
        if not channel_id:
            return _fail("channel_not_found")
        with self._lock:
            refused = self.refusing.get(channel_id)
            channel = self.channels.get(channel_id)
        if refused:
            return _fail(refused)
        if channel_id[0] in "CG":  # a conversation, not a DM to a user id or a D... channel
            if channel is None or (ws and channel.team_id != ws.team_id):
                return _fail("channel_not_found")
            if channel.is_private and not channel.is_member:
                return _fail("channel_not_found")  # Slack does not admit a private channel exists
            if channel.is_archived:
                return _fail("is_archived")
        if not args.get("text") and not args.get("blocks"):
            return _fail("no_text")
        blocks = args.get("blocks") or []
        if len(blocks) > 50:
            return _fail("invalid_blocks")
        if len(args.get("text") or "") > 40000:
            return _fail("msg_too_long")
        with self._lock:
            wait = self.rate.take(channel_id) if self.rate else 0.0
            if wait:
                self.rate_limited += 1
            else:
                ts = self._ts()
        if wait:
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        answer = self._post_message(args, ts=ts)  # kept for chat.update and threads (slack_messages.py)
        if answer.status_code == 200 and b'"ok":true' in answer.body.replace(b" ", b""):
            with self._lock:
                self.posts.setdefault(channel_id, []).append({**args, "ts": ts})
        return answer

    def m_conversations_info(self, args, ws):
        with self._lock:
            channel = self.channels.get(args.get("channel", ""))
        if channel is None or (ws and channel.team_id != ws.team_id):
            return _fail("channel_not_found")
        if channel.is_private and not channel.is_member:
            return _fail("channel_not_found")
        return _ok(channel=channel.info())

    def m_users_lookupByEmail(self, args, ws):
        email = (args.get("email") or "").lower()
        with self._lock:
            found = next(
                (
                    u
                    for u in self.users.values()
                    if (u.get("profile") or {}).get("email", "").lower() == email
                    and (ws is None or u["team_id"] == ws.team_id)
                ),
                None,
            )
        if found is None or not email:
            return _fail("users_not_found")
        return _ok(user=found)

    def m_chat_postEphemeral(self, args, ws):
        if args.get("user") not in self.users:
            return _fail("user_not_in_channel")
        return _ok(message_ts=self._ts())

    def m_chat_update(self, args, ws):
        if not args.get("ts"):
            return _fail("message_not_found")
        return self._update_message(args)

    def m_conversations_open(self, args, ws):
        users = args.get("users", "")
        if isinstance(users, list):
            users = ",".join(users)
        if "," in users:
            return self._open_group(users.split(","))
        first = users.split(",")[0] if users else ""
        user = self.users.get(first)
        if user is None:
            return _fail("user_not_found")
        if user.get("is_bot"):
            return _fail("cannot_dm_bot")
        if user.get("deleted"):
            return _fail("user_disabled")
        return _ok(channel={"id": "D" + first[1:]})

    def m_users_info(self, args, ws):
        user = self.users.get(args.get("user", ""))
        if user is None:
            return _fail("user_not_found")
        return _ok(user=user)

    def m_users_list(self, args, ws):
        members = [u for u in self.users.values() if ws is None or u["team_id"] == ws.team_id]
        return _ok(members=members, response_metadata={"next_cursor": ""})

    def m_views_open(self, args, ws):
        if not args.get("trigger_id"):
            return _fail("invalid_trigger_id")
        view = {**(args.get("view") or {}), "id": f"V{next(self._ids):08d}"}
        with self._lock:
            self.views[view["id"]] = {**view, "trigger_id": args["trigger_id"]}
        return _ok(view=view)

    def m_views_update(self, args, ws):
        view_id = args.get("view_id", "V0")
        view = {**(args.get("view") or {}), "id": view_id}
        with self._lock:
            if view_id in self.views:
                self.views[view_id] = {**view, "trigger_id": self.views[view_id]["trigger_id"]}
        return _ok(view=view)

    def m_views_publish(self, args, ws):
        """As Slack does: the user must exist, the Home tab be enabled, `view` be a valid home view
        (Block Kit checked with slack_sdk's models, <= 100 blocks, <= 250 kB) and `hash`, when given, the
        current one. The published view is kept per user (`home_views`) as Slack keeps it."""
        user_id = args.get("user_id")
        if user_id not in self.users:
            return _fail("user_not_found")
        view = args.get("view")
        if not isinstance(view, dict):
            return _fail("invalid_arguments", messages=["[ERROR] missing required field: view"])
        if len(json.dumps(view)) > 250_000:
            return _fail("view_too_large")
        problem = _view_problem(view, "home")
        if problem:
            return _fail("invalid_arguments", messages=[f"[ERROR] {problem} [json-pointer:/view]"])
        if not self.home_tab_enabled:
            return _fail("not_enabled")
        with self._lock:
            current = self.home_views.get(user_id)
            if args.get("hash") and current is not None and args["hash"] != current["hash"]:
                return _fail("hash_conflict")
            view_id = current["id"] if current else f"V{next(self._ids):08d}"
            published = {
                **view,
                "id": view_id,
                "team_id": ws.team_id if ws else None,
                "hash": f"{time.time():.6f}.{secrets.token_hex(4)}",
                "bot_id": ws.bot_id if ws else None,
            }
            self.home_views[user_id] = published
        return _ok(view=published)


def _ok(**fields) -> JSONResponse:
    return JSONResponse({"ok": True, **fields})


def _fail(error: str, *, messages: list[str] | None = None) -> JSONResponse:
    body: dict = {"ok": False, "error": error}
    if messages:
        body["response_metadata"] = {"messages": messages}
    return JSONResponse(body)


def _view_problem(view: dict, kind: str) -> str | None:
    """Why Slack would refuse `view` as a `kind` view, or None (slack_sdk's models know Block Kit's rules)."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    if view.get("type") != kind:
        return f"view type must be {kind}"
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return "missing required field: blocks"
    for i, block in enumerate(blocks):
        parsed = Block.parse(block) if isinstance(block, dict) else None
        if parsed is None:
            return f"unknown block type at /blocks/{i}"
        try:
            parsed.validate_json()
        except SlackObjectFormationError as error:
            return f"{error} [/blocks/{i}]"
    try:
        View(
            **{
                k: v
                for k, v in view.items()
                if k
                in (
                    "type",
                    "blocks",
                    "callback_id",
                    "private_metadata",
                    "external_id",
                    "title",
                    "close",
                    "submit",
                )
            }
        ).validate_json()
    except SlackObjectFormationError as error:
        return str(error)
    return None
