"""A local stand-in for the part of Zoom's API that Quolum Bot uses: Server-to-Server OAuth and users.

Serve it with `serve_in_thread(standin.app)`; point both `ZOOM_OAUTH_URL` and `ZOOM_API_URL` at
`server.url` (Zoom serves them from zoom.us and api.zoom.us). Built from Zoom's API reference
(developers.zoom.us: Server-to-Server OAuth, Users, rate limits, error codes):

    POST /oauth/token?grant_type=account_credentials&account_id=…   HTTP Basic client_id:client_secret
         -> {"access_token", "token_type": "bearer", "expires_in": 3600, "scope", "api_url"}
            (no refresh token; every exchange gives a new token, the old ones keep working)
    GET  /v2/users?status=active&page_size=&next_page_token=   Medium   user:read:admin
    GET  /v2/users/{userId|email|me}                           Light    user:read:admin
    PATCH /v2/users/{userId}  {"type": 1|2|4|99} -> 204        Light    user:write:admin
    GET  /v2/report/users?type=active&from=&to=                Heavy    report:read:admin
         (the active/inactive hosts report: zoom_reports.py)

Each scope is accepted in its classic form or its granular one (`user:read:list_users:admin`,
`user:read:user:admin`, `user:update:user:admin`, `report:read:list_users:admin`), as Zoom does for apps created after 2024.

Request pipeline (every request is first recorded in `requests`):
1. `faults.apply(path)`: an injected fault is returned as is (a failure in front of the API).
2. The token endpoint: wrong grant type -> 400 `unsupported_grant_type`; wrong or missing Basic
   credentials -> 401 `{"reason": "Invalid client_id or client_secret", "error": "invalid_client"}`;
   an account id that is not the app's -> 400 `invalid_request`; a deactivated app -> 400
   `invalid_client` "The app has been deactivated" (that wording is ours: Zoom's reference lists the
   codes, not every sentence).
3. API: unknown path -> 404; a missing, unknown, expired (one hour on the injected clock) or
   deactivated app's token -> 401 `{"code": 124, "message": …}`; rate limit per account and
   category per second (Free: Light 4, Medium 2; Pro: 30, 20; Business: 80, 60), every answer carrying
   `X-RateLimit-Category`, `X-RateLimit-Type: QPS`, `X-RateLimit-Limit`, `X-RateLimit-Remaining`; over
   it -> 429 `{"code": 429, …}` with `Retry-After: 1`; a token without the endpoint's scope -> 400
   `{"code": 4711, "message": "Invalid access token, does not contain scopes:[…]."}` (Zoom answers 400,
   not 403); a user that does not exist -> 404 `{"code": 1001, …}`.

Paging: `page_size` 1..300 (default 30; above 300 is answered with 300 a page, as Zoom caps it);
`next_page_token` is "" on the last page and expires 15 minutes after it was issued (400 code 300).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultInjector
from .sendgrid_limits import FixedWindowRateLimiter
from .zoom_reports import HostReports
from .zoom_seed import BASIC, LICENSED, NONE, UNASSIGNED, ZoomAccount

__all__ = ["ZoomStandIn", "LIMITS", "SCOPES"]

TOKEN_LIFETIME = 3600
PAGE_TOKEN_LIFETIME = 15 * 60
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 300, 30
# plan -> category -> requests per second (Zoom's rate-limits page: Free, Pro, Business and above;
# Free's daily caps are not modelled)
LIMITS = {
    "free": {"Light": 4, "Medium": 2, "Heavy": 1},
    "pro": {"Light": 30, "Medium": 20, "Heavy": 10},
    "business": {"Light": 80, "Medium": 60, "Heavy": 40},
}
# endpoint -> the scopes that each allow it (classic first, then granular)
SCOPES = {
    "list_users": ("user:read:admin", "user:read:list_users:admin"),
    "get_user": ("user:read:admin", "user:read:user:admin"),
    "update_user": ("user:write:admin", "user:update:user:admin"),
    "report_users": ("report:read:admin", "report:read:list_users:admin"),
}
CATEGORY = {"list_users": "Medium", "get_user": "Light", "update_user": "Light", "report_users": "Heavy"}
USER_TYPES = (BASIC, LICENSED, UNASSIGNED, NONE)


@dataclass
class _App:
    account_id: str
    secret: str
    scopes: tuple[str, ...]
    activated: bool = True


@dataclass(frozen=True)
class _Token:
    account_id: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(frozen=True)
class _PageToken:
    query: tuple[str, int]  # (status, page size) it continues
    offset: int
    issued_at: float


def _mint(n: int) -> str:
    return secrets.token_urlsafe(n)


class ZoomStandIn:
    """Zoom's S2S OAuth and users API over real HTTP. `clock`: seconds since the epoch (or a callable
    returning an aware datetime)."""

    def __init__(self, *, clock: Callable[[], float | datetime] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, ZoomAccount] = {}
        self._apps: dict[str, _App] = {}
        self._tokens: dict[str, _Token] = {}
        self._pages: dict[str, _PageToken] = {}
        self._requests: list[dict[str, object]] = []
        self._limiter = FixedWindowRateLimiter()
        self.exchanges = 0
        self.faults = FaultInjector()
        self.reports = HostReports()
        self._bodies: dict[str, tuple[object, dict[str, object]]] = {}
        methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=methods)])

    # ---------------------------------------------------------------- set-up
    def add_account(self, account: ZoomAccount) -> None:
        with self._lock:
            self._accounts[account.account_id] = account

    def add_app(self, account_id: str, scopes: list[str]) -> tuple[str, str]:
        """A Server-to-Server OAuth app on `account_id` with `scopes`: its (client id, client secret)."""
        with self._lock:
            client_id = _mint(16)[:22]
            secret = _mint(24)[:32]
            self._apps[client_id] = _App(account_id, secret, tuple(scopes))
            return client_id, secret

    def set_scopes(self, client_id: str, scopes: list[str]) -> None:
        """An admin edits the app's scopes: tokens issued from now on carry them."""
        with self._lock:
            self._apps[client_id].scopes = tuple(scopes)

    def deactivate(self, client_id: str) -> None:
        """The app is deactivated: its tokens stop working and no new one is issued."""
        with self._lock:
            self._apps[client_id].activated = False

    def account(self, account_id: str) -> ZoomAccount:
        return self._accounts[account_id]

    # ------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[dict[str, object]]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def rate_limit_violations(self) -> int:
        return self._limiter.violations

    def _now(self) -> float:
        now = self._clock()
        return now.timestamp() if isinstance(now, datetime) else float(now)

    # -------------------------------------------------------------- pipeline
    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        with self._lock:
            self._requests.append(
                {
                    "method": request.method,
                    "path": path,
                    "query": dict(request.query_params),
                    "body": body.decode(errors="replace"),
                }
            )
        injected = await self.faults.apply(path)
        if injected is not None:
            return injected
        if path == "/oauth/token":
            return self._token(request)
        if path.startswith("/v2/"):
            return self._api(request, path.removeprefix("/v2"), body)
        return JSONResponse({"code": 404, "message": "Not Found"}, status_code=404)

    # --------------------------------------------------------------- OAuth
    def _token(self, request: Request) -> Response:
        def refuse(status: int, error: str, reason: str) -> Response:
            return JSONResponse({"reason": reason, "error": error}, status_code=status)

        if request.method != "POST":
            return refuse(405, "invalid_request", "Method not allowed")
        params = request.query_params
        if params.get("grant_type") != "account_credentials":
            return refuse(400, "unsupported_grant_type", "unsupported grant type")
        client_id, secret = _basic(request.headers.get("authorization"))
        with self._lock:
            app = self._apps.get(client_id or "")
            if app is None or not secrets.compare_digest(app.secret, secret or ""):
                return refuse(401, "invalid_client", "Invalid client_id or client_secret")
            if not app.activated:
                return refuse(400, "invalid_client", "The app has been deactivated")
            if params.get("account_id") != app.account_id:
                return refuse(400, "invalid_request", "Invalid request : Account does not exist.")
            token = "eyJ" + _mint(48)
            self._tokens[token] = _Token(app.account_id, client_id, app.scopes, self._now() + TOKEN_LIFETIME)
            self.exchanges += 1
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
                "scope": " ".join(app.scopes),
                "api_url": str(request.base_url).rstrip("/"),
            }
        )

    # ----------------------------------------------------------------- API
    def _api(self, request: Request, path: str, body: bytes) -> Response:
        parts = [p for p in path.split("/") if p]
        if parts == ["users"] and request.method == "GET":
            endpoint = "list_users"
        elif len(parts) == 2 and parts[0] == "users" and request.method == "GET":
            endpoint = "get_user"
        elif len(parts) == 2 and parts[0] == "users" and request.method == "PATCH":
            endpoint = "update_user"
        elif parts == ["report", "users"] and request.method == "GET":
            endpoint = "report_users"
        else:
            return JSONResponse({"code": 404, "message": "Not Found"}, status_code=404)

        bearer = _bearer(request.headers.get("authorization"))
        now = self._now()
        with self._lock:
            token = self._tokens.get(bearer or "")
            app = self._apps.get(token.client_id) if token else None
        if token is None or app is None or not app.activated:
            return _error(401, 124, "Invalid access token.")
        if token.expires_at <= now:
            return _error(401, 124, "Access token is expired.")
        account = self._accounts[token.account_id]

        category = CATEGORY[endpoint]
        limit = LIMITS[account.plan][category]
        allowed, remaining, _ = self._limiter.hit((account.account_id, category), limit, 1.0, now)
        headers = {
            "X-RateLimit-Category": category,
            "X-RateLimit-Type": "QPS",
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
        }
        if not allowed:
            message = "You have reached the maximum per-second rate limit for this API. Try again later."
            return _error(429, 429, message, {**headers, "Retry-After": "1"})
        needed = SCOPES[endpoint]
        if not set(needed) & set(token.scopes):
            message = f"Invalid access token, does not contain scopes:[{', '.join(needed)}]."
            return _error(400, 4711, message, headers)

        if endpoint == "list_users":
            return self._list_users(request, account, now, headers)
        if endpoint == "report_users":
            return self.reports.answer(request.query_params, account, now, headers)
        with self._lock:
            user = account.owner if parts[1] == "me" else account.find(parts[1])
        if user is None:
            return _error(404, 1001, f"User does not exist: {parts[1]}.", headers)
        if endpoint == "get_user":
            return JSONResponse(
                {**user.to_json(), "account_id": account.account_id, "role_name": _role(user.role_id)},
                headers=headers,
            )
        return self._update_user(account, user.id, body, headers)

    def _list_users(self, request: Request, account: ZoomAccount, now: float, headers) -> Response:
        params = request.query_params
        status = params.get("status") or "active"
        if status not in ("active", "inactive", "pending"):
            return _error(400, 300, "Invalid field.", headers)
        try:
            size = int(params.get("page_size") or DEFAULT_PAGE_SIZE)
        except ValueError:
            return _error(400, 300, "Invalid field.", headers)
        size = min(max(size, 1), MAX_PAGE_SIZE)
        offset = 0
        with self._lock:
            if cursor := params.get("next_page_token"):
                page = self._pages.get(cursor)
                if page is None or now - page.issued_at > PAGE_TOKEN_LIFETIME:
                    return _error(400, 300, "The next page token is invalid or expired.", headers)
                offset = page.offset
            listed = [u for u in account.users if u.status == status]
            chunk = listed[offset : offset + size]
            next_token = ""
            if offset + size < len(listed):
                next_token = _mint(24)
                self._pages[next_token] = _PageToken((status, size), offset + size, now)
        page = {
            "next_page_token": next_token,
            "page_count": -(-len(listed) // size),
            "page_number": offset // size + 1,
            "page_size": size,
            "total_records": len(listed),
            "users": [self._user_json(u) for u in chunk],
        }
        # msgspec and each user's body built once: the benchmark measures the client, not this server
        return Response(msgspec.json.encode(page), headers=headers, media_type="application/json")

    def _user_json(self, user) -> dict[str, object]:
        """`user.to_json()`, kept while the user is unchanged (a user is a frozen value)."""
        cached = self._bodies.get(user.id)
        if cached is None or cached[0] is not user:
            cached = self._bodies[user.id] = (user, user.to_json())
        return cached[1]

    def _update_user(self, account: ZoomAccount, user_id: str, body: bytes, headers) -> Response:
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return _error(400, 300, "Request Body should be a valid JSON object.", headers)
        kind = fields.get("type") if isinstance(fields, dict) else None
        if kind is not None and kind not in USER_TYPES:
            return _error(400, 300, "Invalid field.", headers)
        if kind is not None:
            with self._lock:
                account.set_type(user_id, int(kind))
        return Response(status_code=204, headers=headers)


def _role(role_id: str) -> str:
    return {"0": "Owner", "1": "Admin"}.get(role_id, "Member")


def _error(status: int, code: int, message: str, headers: dict | None = None) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _basic(header: str | None) -> tuple[str | None, str | None]:
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret
