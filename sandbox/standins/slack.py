"""A stand-in for Slack's Web API (and response_url webhooks, and Socket Mode) on 127.0.0.1.

It answers as Slack does: HTTP 200 with `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`, HTTP 429 with `Retry-After` when asked to,
form-encoded or JSON arguments, the token in the Authorization header or the
`token` field. Every call is recorded (with the token's last 4 characters only)
so tests can assert on what the bot sent. Socket Mode's WebSocket side is in slack_socket.py.

Here: set-up, the dispatcher (faults, queued errors, auth) and auth.*, oauth.v2.*, api.test,
apps.connections.open. The other method families are mixins: chat.* (slack_chat.py, with the
per-channel rate limit), users.* and conversations.* (slack_directory.py), views.* (slack_views.py);
posted messages, their metadata, threads and conversations.history are kept by slack_messages.py.
`answer_slowly(method, seconds)` makes a call take effect and answer late (a client timeout that
leaves the caller not knowing whether its post was made).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from sandbox.standins.faults import FaultInjector
from sandbox.standins.slack_blocks import block_errors
from sandbox.standins.slack_chat import ChannelRate, ChatMixin
from sandbox.standins.slack_directory import DirectoryMixin
from sandbox.standins.slack_messages import MessagesMixin
from sandbox.standins.slack_responses import fail, ok
from sandbox.standins.slack_scim import ScimMixin
from sandbox.standins.slack_seats import SeatsMixin
from sandbox.standins.slack_socket import SocketModeServer
from sandbox.standins.slack_views import ViewsMixin

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


class SlackStandIn(SeatsMixin, ScimMixin, ChatMixin, DirectoryMixin, ViewsMixin, MessagesMixin):
    def __init__(self, *, client_id: str = "1111.2222", client_secret: str = "slack-client-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.faults = FaultInjector()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.calls: list[Call] = []
        self.responses: list[dict] = []  # bodies POSTed to response_url webhooks (accepted ones)
        self.response_attempts: list[dict] = []  # every body POSTed to them, refused ones too
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.revoked: set[str] = set()
        self.users: dict[str, dict] = {}
        self.codes: dict[str, str] = {}  # oauth code -> team id
        self.channels: dict[str, Channel] = {}
        self.posts: dict[str, list[dict]] = {}  # channel -> messages posted there (accepted only)
        self.refusing: dict[str, str] = {}  # channel -> the error chat.postMessage answers
        # team -> block types its Slack refuses with invalid_blocks (a client without the chart block)
        self.without_blocks: dict[str, set[str]] = {}
        self.hooks: dict[str, str] = {}  # response_url hook -> its team
        self.rate: ChannelRate | None = ChannelRate()  # None: no per-channel rate limit
        self.rate_limited = 0  # 429s answered by the per-channel limit
        self.latency = 0.0  # seconds every Web API call waits before answering (benchmarks)
        self.home_views: dict[str, dict] = {}  # user id -> the App Home view last published
        self.views: dict[str, dict] = {}  # modals opened (views.open) by id, with their trigger_id
        self.home_tab_enabled = True  # the manifest's features.app_home.home_tab_enabled
        self._errors: dict[str, list[tuple[str, int, dict]]] = {}
        self._slow: dict[str, list[float]] = {}  # method -> delays: the call is done, the answer waits
        self.socket = SocketModeServer(self)  # Socket Mode: app tokens, the WebSocket, envelopes and acks
        self._seats_init()  # the workspace's own seats: team.*, paging, SCIM (slack_seats.py)
        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/scim/v2/Users/{user_id}", self.scim_user, methods=["GET", "DELETE"]),
                Route("/oauth/v2/authorize", self.authorize, methods=["GET"]),
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
        """A person whose home workspace is `team_id` (any team id: someone from another workspace in a
        shared channel is answered too). In a workspace of an Enterprise Grid org the user also carries
        `enterprise_user`, as Slack sends it: `org_admin`/`org_owner` set its roles, `teams` the other
        workspaces of the org the user belongs to."""
        ws = self.workspaces.get(team_id)
        grid = (
            {
                "id": user_id,
                "enterprise_id": ws.enterprise_id,
                "enterprise_name": f"{ws.name} Org",
                "is_admin": flags.pop("org_admin", False),
                "is_owner": flags.pop("org_owner", False),
                "teams": [team_id, *flags.pop("teams", ())],
            }
            if ws is not None and ws.enterprise_id
            else None
        )
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
        if grid is not None:
            user["enterprise_user"] = grid
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

    def answer_slowly(self, method: str, seconds: float, *, count: int = 1) -> None:
        """The next `count` calls of `method` take effect at once (a post is posted) and their answer
        comes `seconds` later: a client that gave up meanwhile never learns what happened."""
        with self._lock:
            self._slow.setdefault(method, []).extend([seconds] * count)

    def rate_limit_next(self, method: str, *, retry_after: int = 1, count: int = 1) -> None:
        self.fail_next(
            method, "ratelimited", count=count, status=429, headers={"Retry-After": str(retry_after)}
        )

    def revoke(self, token: str) -> None:
        with self._lock:
            self.revoked.add(token)

    def response_url(self, team_id: str = "T0001") -> str:
        """A response_url for a command or a click in `team_id` (whose blocks it checks)."""
        hook = str(next(self._ids))
        with self._lock:
            self.hooks[hook] = team_id
        return f"{self.url}/response/{hook}"

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
        for key in ("blocks", "view", "attachments", "metadata"):
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
                return fail("insecure_request")
            app_error = self.socket.check_app_token(token, in_header=auth.lower().startswith("bearer "))
            if app_error is not None:
                return fail(app_error)
            return self.m_apps_connections_open(args, token)
        if method not in NO_AUTH_METHODS:
            if not token:
                return fail("not_authed")
            if token in self.revoked:
                return fail("token_revoked")
            if token in self.socket.app_tokens:
                return fail("not_allowed_token_type")
            if token not in self.tokens:
                return fail("invalid_auth")
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return fail("unknown_method")
        if self.latency:
            await asyncio.sleep(self.latency)
        team_id = self.tokens.get(token or "")
        ws = self.workspaces.get(team_id) if team_id else None
        if (refusal := self.tier2_refusal(method, team_id)) is not None:
            return refusal
        self.current_token = token  # the seat methods tell a user token from a bot token
        response = handler(args, ws)
        if ws is not None:
            response.headers["x-oauth-scopes"] = self.token_scopes(token, ws)
        with self._lock:
            slow = self._slow.get(method)
            delay = slow.pop(0) if slow else 0.0
        if delay:
            await asyncio.sleep(delay)
        return response

    async def _response_url(self, request: Request) -> Response:
        """Slack's answer to a response_url post: 200 `ok`, or a 400 whose plain-text body is the
        bare error code (`invalid_blocks`, with none of chat.postMessage's detail); nothing shown."""
        body = json.loads(await request.body() or b"{}")
        hook = request.path_params["hook"]
        with self._lock:
            self.response_attempts.append({"hook": hook, **body})
            refused = self.without_blocks.get(self.hooks.get(hook, ""), ())
        blocks = body.get("blocks") or []
        if len(blocks) > 50 or block_errors(blocks, refused):
            return PlainTextResponse("invalid_blocks", status_code=400)
        with self._lock:
            self.responses.append({"hook": hook, **body})
        return PlainTextResponse("ok")

    # --- methods --------------------------------------------------------------
    def m_api_test(self, args, ws):
        return ok(args=args)

    def m_apps_connections_open(self, args, app_token: str):
        return ok(url=self.socket.issue_url(app_token))

    def m_auth_test(self, args, ws):
        grant = self.user_grants.get(self.current_token or "")  # an admin's user token: that person
        return ok(
            url=f"https://{ws.name.lower()}.slack.com/",
            team=ws.name,
            user="quolum" if grant is None else grant.user_id.lower(),
            team_id=ws.team_id,
            user_id=ws.bot_user_id if grant is None else grant.user_id,
            **({"bot_id": ws.bot_id} if grant is None else {}),
            enterprise_id=ws.enterprise_id,
            is_enterprise_install=ws.team_id in self.org_installs,  # an org-wide install's token (`E…`)
        )

    def m_oauth_v2_access(self, args, ws):
        if args.get("client_id") != self.client_id or args.get("client_secret") != self.client_secret:
            return fail(
                "invalid_client_id" if args.get("client_id") != self.client_id else "bad_client_secret"
            )
        if (user_grant := self.seats_oauth(args)) is not None:  # an admin's user token (slack_seats.py)
            return user_grant
        with self._lock:
            team_id = self.codes.pop(args.get("code", ""), None)
        if team_id is None:
            return fail("invalid_code")
        ws = self.workspaces[team_id]
        return ok(
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
