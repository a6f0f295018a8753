"""A local stand-in for the part of SendGrid's v3 API that Quolum Bot reads.

Serve it with `serve_in_thread(standin.app)` and point the bot at `server.url`
(the bot appends `/v3/...`). It answers as SendGrid documents:

    GET /v3/scopes                   no scope      {"scopes": [...]} of the key
    GET /v3/user/account             user.account.read
    GET /v3/user/credits             user.credits.read
    GET /v3/user/username            user.username.read
    GET /v3/teammates                teammates.read                 offset paging, limit <= 500
    GET /v3/stats                    stats.read                     day / week / month
    GET /v3/access_settings/activity access_settings.activity.read
    GET /v3/teammates/{username}     teammates.read                 one teammate
    DELETE /v3/teammates/{username}  teammates.delete               204; gone from the next listing

A teammate SendGrid does not have answers 404 `{"errors": [{"field": "username", "message":
"teammate not found"}]}`; the account owner cannot be deleted (400, field `username`): both wordings
are the stand-in's, SendGrid documents the envelope. Every accepted DELETE is logged in
`teammate_deletes` ("exactly once" checks count them).

Request pipeline, in order (every request is first recorded in `requests`):

1. `faults.apply(path)`: an injected fault (5xx, delay, hang) is returned as is,
   without rate-limit headers; it stands for a failure in front of the API.
2. Rate limit, per endpoint per presented credential, in fixed windows (see
   `FixedWindowRateLimiter`). Every other response carries `X-RateLimit-Limit`,
   `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds); over the
   limit -> 429 `too many requests`, no Retry-After, counted in
   `rate_limit_violations`.
3. Unknown path -> 404 `not found`; known path, other method -> 405.
4. `Authorization: Bearer <key>` only. Missing, unknown or revoked -> 401
   `authorization required`.
5. Key lacks the endpoint's scope -> 403 `access forbidden`.
6. Query validation -> 400 with one `{"field", "message"}` per problem.

Query validation and the choices where SendGrid's documentation is silent
(400 wordings, stats buckets, paging) are in sendgrid_queries.py; the fixed-window
rate limiter in sendgrid_limits.py. `on-behalf-of` is accepted and ignored (no
subusers here).
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultInjector
from .sendgrid_limits import FixedWindowRateLimiter
from .sendgrid_queries import activity, errors_body, stats, teammates
from .sendgrid_seed import SendGridAccount

__all__ = ["SendGridStandIn", "mint_key", "KEY_PATTERN"]

_KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
KEY_PATTERN = re.compile(r"^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$")

# path -> scope the key needs (None: any valid key)
ROUTE_SCOPES: dict[str, str | None] = {
    "/v3/scopes": None,
    "/v3/user/account": "user.account.read",
    "/v3/user/credits": "user.credits.read",
    "/v3/user/username": "user.username.read",
    "/v3/teammates": "teammates.read",
    "/v3/stats": "stats.read",
    "/v3/access_settings/activity": "access_settings.activity.read",
}


# /v3/teammates/{username}: method -> scope
TEAMMATE_PATH = re.compile(r"^/v3/teammates/(?P<username>[^/]+)$")
TEAMMATE_SCOPES = {"GET": "teammates.read", "DELETE": "teammates.delete"}

AUTO_SCOPES = ("2fa_required", "sender_verification_eligible", "sender_verification_exempt")


def mint_key() -> str:
    """A key shaped like SendGrid's: "SG." + 22 chars + "." + 43 chars (69 in all)."""
    left = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(22))
    right = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(43))
    return f"SG.{left}.{right}"


@dataclass
class _Key:
    account_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


class SendGridStandIn:
    """SendGrid's v3 read API over real HTTP, with accounts, keys, rate limits and faults.

    `clock` returns seconds since the epoch (a callable returning an aware
    datetime, like core.clock.FrozenClock, is accepted too).
    """

    DEFAULT_RATE_LIMIT: tuple[int, float] = (600, 60.0)

    def __init__(self, *, clock: Callable[[], float | datetime] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, SendGridAccount] = {}
        self._keys: dict[str, _Key] = {}
        self._requests: list[dict[str, object]] = []
        self._teammate_deletes: list[dict[str, object]] = []
        self._rate_limit = self.DEFAULT_RATE_LIMIT
        self._endpoint_limits: dict[str, tuple[int, float]] = {}
        self._limiter = FixedWindowRateLimiter()
        self.faults = FaultInjector()
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._dispatch,
                    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                )
            ]
        )

    # ---------------------------------------------------------------- set-up
    def add_account(self, account: SendGridAccount) -> None:
        with self._lock:
            self._accounts[account.account_id] = account

    def add_key(self, account_id: str, scopes: list[str]) -> str:
        """Mint a key for `account_id` with `scopes`; return it."""
        with self._lock:
            if account_id not in self._accounts:
                raise KeyError(f"unknown account {account_id!r}")
            key = mint_key()
            while key in self._keys:
                key = mint_key()
            self._keys[key] = _Key(account_id, tuple(dict.fromkeys(scopes)))
            return key

    def set_key_scopes(self, key: str, scopes: list[str]) -> None:
        """An admin edits the key's permissions in place (SendGrid's `PUT /v3/api_keys/{id}`): same key."""
        with self._lock:
            self._keys[key].scopes = tuple(dict.fromkeys(scopes))

    def revoke_key(self, key: str) -> None:
        """From now on `key` answers 401, as a deleted key does."""
        with self._lock:
            self._keys[key].revoked = True

    @property
    def rate_limit(self) -> tuple[int, float]:
        """(limit, window seconds) applied per endpoint per key unless overridden."""
        with self._lock:
            return self._rate_limit

    @rate_limit.setter
    def rate_limit(self, value: tuple[int, float]) -> None:
        limit, window = value
        if limit < 0 or window <= 0:
            raise ValueError("rate limit needs limit >= 0 and window > 0")
        with self._lock:
            self._rate_limit = (int(limit), float(window))

    def set_endpoint_rate_limit(self, path: str, limit: int, window_seconds: float) -> None:
        """Override the limit of one endpoint (e.g. "/v3/stats")."""
        with self._lock:
            self._endpoint_limits[path] = (int(limit), float(window_seconds))

    # ------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[dict[str, object]]:
        """{method, path, query, key_suffix} per request, oldest first (a copy)."""
        with self._lock:
            return [dict(r) for r in self._requests]

    @property
    def teammate_deletes(self) -> list[dict[str, object]]:
        """{account_id, username, at} per teammate the API deleted (204), oldest first (a copy)."""
        with self._lock:
            return [dict(d) for d in self._teammate_deletes]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def rate_limit_violations(self) -> int:
        with self._lock:
            return self._limiter.violations

    # ------------------------------------------------------------------ time
    def _now(self) -> float:
        now = self._clock()
        return now.timestamp() if isinstance(now, datetime) else float(now)

    def _today(self) -> date:
        return datetime.fromtimestamp(self._now(), tz=UTC).date()

    # -------------------------------------------------------------- pipeline
    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        key = _bearer_key(request.headers.get("authorization"))
        presented = request.headers.get("authorization", "")
        with self._lock:
            self._requests.append(
                {
                    "method": request.method,
                    "path": path,
                    "query": dict(request.query_params),
                    "key_suffix": key[-4:] if key else None,
                }
            )

        injected = await self.faults.apply(path, request.method)
        if injected is not None:
            return injected

        with self._lock:
            limit, window = self._endpoint_limits.get(path, self._rate_limit)
        # Bucket by the credential as presented, so unauthenticated calls are limited too.
        allowed, remaining, reset = self._limiter.hit((path, key or presented), limit, window, self._now())
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }

        def reply(status: int, body: object) -> Response:
            if body is None:  # 204 No Content
                return Response(status_code=status, headers=headers)
            return JSONResponse(body, status_code=status, headers=headers)

        if not allowed:
            return reply(429, errors_body((None, "too many requests")))
        one = TEAMMATE_PATH.match(path)
        if path not in ROUTE_SCOPES and one is None:
            return reply(404, errors_body((None, "not found")))
        if request.method not in (TEAMMATE_SCOPES if one else ("GET",)):
            return reply(405, errors_body((None, "method not allowed")))

        with self._lock:
            record = self._keys.get(key) if key else None
            if record is None or record.revoked:
                record = None
                account = None
            else:
                account = self._accounts.get(record.account_id)
        if record is None or account is None:
            return reply(401, errors_body((None, "authorization required")))

        scope = TEAMMATE_SCOPES[request.method] if one else ROUTE_SCOPES[path]
        if scope is not None and scope not in record.scopes:
            return reply(403, errors_body((None, "access forbidden")))
        if one is not None:
            return reply(
                *self._teammate(account, request.method, one["username"])
            )  # the path arrives decoded

        params = request.query_params
        if path == "/v3/scopes":
            # SendGrid adds these to every key by itself, whichever access was chosen.
            added = [s for s in AUTO_SCOPES if s not in record.scopes]
            return reply(200, {"scopes": [*record.scopes, *added]})
        if path == "/v3/user/account":
            return reply(200, {"type": account.account_type, "reputation": account.reputation})
        if path == "/v3/user/credits":
            return reply(200, account.credits.to_json())
        if path == "/v3/user/username":
            return reply(200, {"username": account.username, "user_id": account.user_id})
        if path == "/v3/teammates":
            return reply(*teammates(account, params))
        if path == "/v3/stats":
            return reply(*stats(account, params, self._today()))
        if path == "/v3/access_settings/activity":
            return reply(*activity(account, params))
        raise AssertionError(f"route {path} has a scope but no handler")  # pragma: no cover

    def _teammate(self, account: SendGridAccount, method: str, username: str) -> tuple[int, object]:
        with self._lock:
            mate = next((m for m in account.teammates if m.username == username), None)
            if mate is None:
                return 404, errors_body(("username", "teammate not found"))
            if method == "GET":
                return 200, mate.to_json()
            if mate.user_type == "owner":
                return 400, errors_body(("username", "cannot delete the account owner"))
            account.teammates.remove(mate)
            self._teammate_deletes.append(
                {"account_id": account.account_id, "username": username, "at": self._now()}
            )
        return 204, None


# ------------------------------------------------------------------ helpers
def _bearer_key(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
