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

Choices where SendGrid's documentation is silent (kept here, in one place):

- 400 wordings: SendGrid documents the error envelope, not these messages.
  Missing start_date: "missing start_date"; malformed dates: "<field> must be
  a valid date in YYYY-MM-DD format"; end before start: field end_date,
  "end_date must not be before start_date"; bad aggregated_by: "aggregated_by
  must be one of day, week, month"; integers: "<name> must be an integer",
  "<name> must be less than or equal to <max>", "... greater than or equal to <min>".
- end_date defaults to today (UTC, from the clock), as documented.
- Week buckets are ISO weeks (Monday to Sunday): SendGrid's weekly stats follow
  ISO week numbering (its known failure on week 53 of 2015 shows it). Month
  buckets are calendar months. A bucket's "date" is its first day inside the
  requested range, so the first bucket of a range starting mid-week/mid-month is
  dated start_date, later ones the Monday / the 1st. Buckets only sum days
  inside [start_date, end_date], so bucket totals add up to the day totals.
- `limit` / `offset` on /v3/stats (documented, unspecified) slice the rows
  after aggregation.
- `on-behalf-of` is accepted and ignored (no subusers here).
"""

from __future__ import annotations

import math
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultInjector
from .sendgrid_seed import SendGridAccount

__all__ = ["FixedWindowRateLimiter", "SendGridStandIn", "mint_key", "KEY_PATTERN"]

_KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
KEY_PATTERN = re.compile(r"^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$")
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_TEAMMATES_LIMIT = 500
DEFAULT_ACTIVITY_LIMIT = 20

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


AUTO_SCOPES = ("2fa_required", "sender_verification_eligible", "sender_verification_exempt")


def mint_key() -> str:
    """A key shaped like SendGrid's: "SG." + 22 chars + "." + 43 chars (69 in all)."""
    left = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(22))
    right = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(43))
    return f"SG.{left}.{right}"


def _errors(*pairs: tuple[str | None, str]) -> dict[str, list[dict[str, str | None]]]:
    return {"errors": [{"field": f, "message": m} for f, m in pairs]}


class FixedWindowRateLimiter:
    """Counts requests per bucket in fixed windows aligned to multiples of the window length.

    With a window of 60 s, a request at t = 1000 falls in [960, 1020): the
    window resets at 1020 for every request in it, which is what SendGrid's
    `X-RateLimit-Reset` reports (a fixed time, not "oldest request + window").
    Limits are passed per call so they can be changed between requests.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[object, tuple[float, int]] = {}  # bucket -> (window start, count)
        self.violations = 0

    def hit(self, bucket: object, limit: int, window: float, now: float) -> tuple[bool, int, int]:
        """Record a request; return (allowed, remaining, reset) with reset in whole Unix seconds."""
        start = math.floor(now / window) * window
        reset = math.ceil(start + window)
        with self._lock:
            win_start, count = self._windows.get(bucket, (start, 0))
            if win_start != start:
                count = 0
            if count >= limit:
                self.violations += 1
                self._windows[bucket] = (start, count)
                return False, 0, reset
            count += 1
            self._windows[bucket] = (start, count)
            return True, limit - count, reset


@dataclass
class _Key:
    account_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


class SendGridStandIn:
    """SendGrid's v3 read API over real HTTP, with accounts, keys, rate limits and faults.

    `clock` returns seconds since the epoch (a callable returning an aware
    datetime, like bot.core.clock.FrozenClock, is accepted too).
    """

    DEFAULT_RATE_LIMIT: tuple[int, float] = (600, 60.0)

    def __init__(self, *, clock: Callable[[], float | datetime] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, SendGridAccount] = {}
        self._keys: dict[str, _Key] = {}
        self._requests: list[dict[str, object]] = []
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

        injected = await self.faults.apply(path)
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
            return JSONResponse(body, status_code=status, headers=headers)

        if not allowed:
            return reply(429, _errors((None, "too many requests")))
        if path not in ROUTE_SCOPES:
            return reply(404, _errors((None, "not found")))
        if request.method != "GET":
            return reply(405, _errors((None, "method not allowed")))

        with self._lock:
            record = self._keys.get(key) if key else None
            if record is None or record.revoked:
                record = None
                account = None
            else:
                account = self._accounts.get(record.account_id)
        if record is None or account is None:
            return reply(401, _errors((None, "authorization required")))

        scope = ROUTE_SCOPES[path]
        if scope is not None and scope not in record.scopes:
            return reply(403, _errors((None, "access forbidden")))

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
            return reply(*_teammates(account, params))
        if path == "/v3/stats":
            return reply(*_stats(account, params, self._today()))
        if path == "/v3/access_settings/activity":
            return reply(*_activity(account, params))
        raise AssertionError(f"route {path} has a scope but no handler")  # pragma: no cover


# ------------------------------------------------------------------ helpers
def _bearer_key(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _int_param(
    params, name: str, default: int | None, errors: list, *, minimum: int = 0, maximum: int | None = None
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append((name, f"{name} must be an integer"))
        return default
    if value < minimum:
        errors.append((name, f"{name} must be greater than or equal to {minimum}"))
    elif maximum is not None and value > maximum:
        errors.append((name, f"{name} must be less than or equal to {maximum}"))
    return value


def _date_param(params, name: str, errors: list) -> date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if _DATE_PATTERN.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors.append((name, f"{name} must be a valid date in YYYY-MM-DD format"))
    return None


def _teammates(account: SendGridAccount, params) -> tuple[int, object]:
    errors: list[tuple[str, str]] = []
    limit = _int_param(params, "limit", MAX_TEAMMATES_LIMIT, errors, maximum=MAX_TEAMMATES_LIMIT)
    offset = _int_param(params, "offset", 0, errors)
    if errors:
        return 400, _errors(*errors)
    page = account.teammates[offset : offset + limit]
    return 200, {"result": [mate.to_json() for mate in page]}


def _activity(account: SendGridAccount, params) -> tuple[int, object]:
    errors: list[tuple[str, str]] = []
    limit = _int_param(params, "limit", DEFAULT_ACTIVITY_LIMIT, errors)
    if errors:
        return 400, _errors(*errors)
    return 200, {"result": [a.to_json() for a in account.access_activity[:limit]]}


_BUCKET_START: dict[str, Callable[[date], date]] = {
    "day": lambda d: d,
    "week": lambda d: d - timedelta(days=d.weekday()),  # ISO week: Monday
    "month": lambda d: d.replace(day=1),
}


def _stats(account: SendGridAccount, params, today: date) -> tuple[int, object]:
    errors: list[tuple[str, str]] = []
    if not params.get("start_date"):
        errors.append(("start_date", "missing start_date"))
    start = _date_param(params, "start_date", errors)
    end = _date_param(params, "end_date", errors)
    if end is None and not params.get("end_date"):
        end = today
    aggregated_by = params.get("aggregated_by") or "day"
    if aggregated_by not in _BUCKET_START:
        errors.append(("aggregated_by", "aggregated_by must be one of day, week, month"))
    limit = _int_param(params, "limit", None, errors)
    offset = _int_param(params, "offset", 0, errors)
    if start is not None and end is not None and end < start:
        errors.append(("end_date", "end_date must not be before start_date"))
    if errors:
        return 400, _errors(*errors)
    assert start is not None and end is not None

    bucket_of = _BUCKET_START[aggregated_by]
    rows: list[dict[str, object]] = []
    current_bucket: date | None = None
    totals: dict[str, int] = {}
    day = start
    while day <= end:
        bucket = bucket_of(day)
        if bucket != current_bucket:
            current_bucket = bucket
            totals = account.metrics_for(day)
            rows.append({"date": day.isoformat(), "stats": [{"metrics": totals}]})
        else:
            for name, value in account.metrics_for(day).items():
                totals[name] += value
        day += timedelta(days=1)

    rows = rows[offset:] if limit is None else rows[offset : offset + limit]
    return 200, rows
