"""How the Google stand-in answers: Google's JSON error body, its quotas, and opaque page tokens.

Error body (every Google JSON API)::

    {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED",
               "errors": [{"message": "...", "domain": "global", "reason": "insufficientPermissions"}]}}

Quotas (developers.google.com, "Limits and quotas" of each API), per user (the subject a token acts
for) and service account, enforced in fixed windows of real time (not the injected clock: quotas are
about how fast requests come):
- Admin SDK API (Directory and Reports): 2,400 queries a minute per user -> 403 `userRateLimitExceeded`;
- Enterprise License Manager: 1 query a second -> 429 `rateLimitExceeded` (RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from starlette.responses import JSONResponse

from .sendgrid_limits import FixedWindowRateLimiter

ADMIN, LICENSING = "admin", "licensing"
QUOTAS = {ADMIN: (2400, 60.0), LICENSING: (1, 1.0)}  # group -> (queries, window seconds)
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
}
USER_RATE = (
    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service "
    "'admin.googleapis.com' for consumer 'project_number:{project}'."
)
LICENSING_RATE = "Rate Limit Exceeded"
NOT_AUTHORIZED = "Not Authorized to access this resource/api"
INSUFFICIENT = "Request had insufficient authentication scopes."
INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential."
)


def error(status: int, reason: str, message: str, domain: str = "global", headers=None) -> JSONResponse:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def unauthenticated() -> JSONResponse:
    return error(
        401,
        "authError",
        INVALID_CREDENTIALS,
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


class Quotas:
    """Per (API group, service account, user) fixed windows; `refused` lists each refusal."""

    def __init__(self) -> None:
        self._limiter = FixedWindowRateLimiter()
        self.refused: list[tuple[str, str]] = []  # (group, subject)
        self._lock = threading.Lock()

    def allow(self, group: str, client_id: str, subject: str, now: float) -> bool:
        limit, window = QUOTAS[group]
        allowed, _, _ = self._limiter.hit((group, client_id, subject), limit, window, now)
        if not allowed:
            with self._lock:
                self.refused.append((group, subject))
        return allowed

    def refusal(self, group: str, project: str) -> JSONResponse:
        if group == LICENSING:
            return error(429, "rateLimitExceeded", LICENSING_RATE, domain="usageLimits")
        return error(403, "userRateLimitExceeded", USER_RATE.format(project=project), domain="usageLimits")


@dataclass(frozen=True)
class _Page:
    query: tuple  # what the token continues (a token of another listing is invalid)
    offset: int


class PageTokens:
    """Opaque `pageToken`s: the offset of the next page of one listing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}

    def offset(self, token: str | None, query: tuple) -> int | None:
        """The offset `token` continues at (0 without one); None for a token not of this listing."""
        if not token:
            return 0
        with self._lock:
            page = self._pages.get(token)
        return page.offset if page is not None and page.query == query else None

    def next(self, query: tuple, offset: int, size: int, total: int) -> str | None:
        if offset + size >= total:
            return None
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._pages[token] = _Page(query, offset + size)
        return token


def max_results(value: str | None, default: int, maximum: int) -> int | None:
    """`maxResults` read as Google's discovery documents bound it, or None when out of range."""
    if value is None or value == "":
        return default
    try:
        size = int(value)
    except ValueError:
        return None
    return size if 1 <= size <= maximum else None


def out_of_range(name: str, value: str | None, maximum: int) -> JSONResponse:
    return error(400, "invalid", f"Invalid value '{value}'. Values must be within the range: [1, {maximum}]")


def parse_fields(text: str) -> dict:
    """Google's partial-response selector (``nextPageToken,users(id,name/fullName)``) as a tree:
    field -> subtree ({}: the whole value). Grammar: list = item ("," item)*; item = path ["(" list ")"];
    path = name ("/" name)*."""
    text = "".join(text.split())
    pos = 0

    def name() -> str:
        nonlocal pos
        start = pos
        while pos < len(text) and text[pos] not in ",()/":
            pos += 1
        return text[start:pos]

    def items() -> dict:
        nonlocal pos
        tree: dict = {}
        while pos < len(text):
            path = [name()]
            while pos < len(text) and text[pos] == "/":
                pos += 1
                path.append(name())
            sub: dict = {}
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = items()
                pos += 1  # ")"
            node = tree
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node.setdefault(path[-1], {}).update(sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
        return tree

    return items() if text else {}


def select(value, tree: dict):
    """`value` with only the fields `tree` names (lists are filtered item by item)."""
    if not tree:
        return value
    if isinstance(value, list):
        return [select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: select(value[key], sub) for key, sub in tree.items() if key in value}
