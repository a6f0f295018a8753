"""A local stand-in for the part of GitHub's REST API that Quolum Bot reads and writes.

Serve it with `serve_in_thread(standin.app)` and point the bot at `server.url` (GITHUB_API_URL).
It answers as GitHub's REST description (github/rest-api-description) and documentation say:

    GET    /user                                    any token       the token's owner
    GET    /users/{username}                        any token       `email` is the public one (often null)
    GET    /orgs/{org}                              any token       `plan` for owners whose token may read it
    GET    /orgs/{org}/members                      read:org        | members=read              Link paging
    GET    /orgs/{org}/copilot/billing              read:org or manage_billing:copilot
                                                                    | organization_copilot_seat_management=read
    GET    /orgs/{org}/copilot/billing/seats        (the same)      `total_seats`, Link paging
    GET    /orgs/{org}/members/{username}/copilot   (the same)      one member's seat, 404 without one
    DELETE /orgs/{org}/copilot/billing/selected_users
                                                    manage_billing:copilot or admin:org
                                                                    | organization_copilot_seat_management=write

Request pipeline, in order (every request is first recorded in `requests`):

1. `faults.apply(path)`: an injected fault, returned as is.
2. No `User-Agent` header -> 403, text/plain, as GitHub refuses such requests.
3. An `X-GitHub-Api-Version` GitHub does not know -> 400.
4. `Authorization: Bearer <token>` (or `token <token>`): missing -> 401 "Requires authentication";
   unknown or revoked -> 401 "Bad credentials".
5. Rate limits per token owner (github_limits.py): the primary hour (5,000) and the secondary minute
   (900 points): 403 (`refusal_status`, 429 if set) with `x-ratelimit-*`, and `retry-after` for a
   secondary limit. Every later answer carries the `x-ratelimit-*` headers.
6. Unknown path -> 404; known path, other method -> 404 too (GitHub answers so).
7. An organisation the token cannot see (its owner is not a member; a fine-grained token whose
   resource owner is another account) -> 404 "Not Found", as if it did not exist.
8. The endpoint's scope (classic tokens: `x-oauth-scopes` on every answer, `x-accepted-oauth-scopes`
   on scoped ones) or permission (fine-grained tokens: no scope header, `x-accepted-github-permissions`)
   missing -> 403 "Resource not accessible by personal access token". The Copilot endpoints also need
   the token's owner to be an organisation owner (403 otherwise; the wording is the stand-in's: GitHub
   documents the rule, not the message).

Choices where GitHub is silent or lenient, made stricter here (kinder than GitHub would hide bugs):
a token without the members scope or permission is refused the member list (GitHub shows such a
token the public members only), and an organisation the token's owner is not in is not found.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .faults import FaultInjector
from .github_api import error
from .github_limits import GitHubLimits
from .github_routes import ROUTES, Answer, Context
from .github_seed import Org

__all__ = ["GitHubStandIn", "CLASSIC_PATTERN", "FINE_GRAINED_PATTERN"]

_ALPHABET = string.ascii_letters + string.digits
CLASSIC_PATTERN = re.compile(r"^ghp_[A-Za-z0-9]{36}$")
FINE_GRAINED_PATTERN = re.compile(r"^github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$")
API_VERSIONS = ("2022-11-28", "2026-03-10")
NO_USER_AGENT = (
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
    "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). "
    "Check https://developer.github.com for other possible causes."
)
LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
# classic scopes a scope includes (GitHub's hierarchy)
IMPLIED = {"admin:org": ("write:org", "read:org"), "write:org": ("read:org",)}
LEVELS = {"read": 1, "write": 2, "admin": 3}


def _mint(prefix: str, *lengths: int) -> str:
    return prefix + "_".join("".join(secrets.choice(_ALPHABET) for _ in range(n)) for n in lengths)


@dataclass
class Token:
    login: str  # its owner
    classic: bool
    scopes: tuple[str, ...] = ()  # classic
    permissions: dict[str, str] = field(default_factory=dict)  # fine-grained: name -> read|write|admin
    owner: str | None = None  # fine-grained: the resource owner (an organisation)
    revoked: bool = False

    def granted(self) -> set[str]:
        scopes = set(self.scopes)
        for scope in self.scopes:
            scopes.update(IMPLIED.get(scope, ()))
        return scopes

    def may(self, classic: tuple[str, ...], fine: tuple[str, ...]) -> bool:
        if self.classic:
            return not classic or bool(self.granted() & set(classic))
        for need in fine:
            name, _, level = need.partition("=")
            if LEVELS.get(self.permissions.get(name, ""), 0) >= LEVELS[level]:
                return True
        return not fine


class GitHubStandIn:
    """GitHub's REST API for seeded organisations, over real HTTP.

    `clock` returns seconds since the epoch (or an aware datetime, like core.clock.FrozenClock).
    `refusal_status`: what a rate limit answers (GitHub sends 403 or 429)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float | datetime] = time.time,
        primary: int = 5000,
        points: int = 900,
        refusal_status: int = 403,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.orgs: dict[str, Org] = {}
        self._tokens: dict[str, Token] = {}
        self._requests: list[dict[str, object]] = []
        self.limits = GitHubLimits(primary=primary, points=points)
        self.refusal_status = refusal_status
        self.cancelled: list[tuple[str, str]] = []  # (org, login) set pending cancellation, in order
        self.refused: list[tuple[str, str]] = []  # (limit, "METHOD path?query") refused for going too fast
        self.faults = FaultInjector()
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=methods)])

    # ---------------------------------------------------------------- set-up
    def add_org(self, org: Org) -> Org:
        with self._lock:
            self.orgs[org.login.lower()] = org
        return org

    def add_classic_token(self, login: str, scopes: list[str]) -> str:
        """A personal access token (classic) of `login` with `scopes`."""
        return self._add(_mint("ghp_", 36), Token(login, True, scopes=tuple(scopes)))

    def add_fine_grained_token(self, login: str, owner: str, permissions: dict[str, str]) -> str:
        """A fine-grained personal access token of `login` for the resource owner `owner`."""
        token = Token(login, False, permissions=dict(permissions), owner=owner.lower())
        return self._add(_mint("github_pat_", 22, 59), token)

    def _add(self, value: str, token: Token) -> str:
        with self._lock:
            self._tokens[value] = token
        return value

    def set_scopes(self, token: str, scopes: list[str]) -> None:
        with self._lock:
            self._tokens[token].scopes = tuple(scopes)

    def set_permissions(self, token: str, permissions: dict[str, str]) -> None:
        with self._lock:
            self._tokens[token].permissions = dict(permissions)

    def revoke(self, token: str) -> None:
        """From now on `token` answers 401 Bad credentials, as a deleted token does."""
        with self._lock:
            self._tokens[token].revoked = True

    # ------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[dict[str, object]]:
        """{method, path, query} per request, oldest first (a copy)."""
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def now(self) -> datetime:
        now = self._clock()
        return now.astimezone(UTC) if isinstance(now, datetime) else datetime.fromtimestamp(now, UTC)

    def today(self) -> date:
        return self.now().date()

    # -------------------------------------------------------------- pipeline
    async def _dispatch(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        with self._lock:
            self._requests.append({"method": method, "path": path, "query": dict(request.query_params)})
        injected = await self.faults.apply(path)
        if injected is not None:
            return injected
        if not request.headers.get("user-agent"):
            return PlainTextResponse(NO_USER_AGENT, status_code=403)
        version = request.headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            message = f"Invalid API version provided: {version}"
            return JSONResponse(error(message, 400), status_code=400)
        headers = {"x-github-api-version-selected": version or API_VERSIONS[0]}
        headers["x-github-request-id"] = secrets.token_hex(8).upper()

        scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
        if not value or scheme.lower() not in ("bearer", "token"):
            return JSONResponse(error("Requires authentication", 401), 401, headers)
        with self._lock:
            token = self._tokens.get(value.strip())
        if token is None or token.revoked:
            return JSONResponse(error("Bad credentials", 401), 401, headers)
        if token.classic:
            headers["x-oauth-scopes"] = ", ".join(token.scopes)

        verdict = self.limits.hit(token.login, method, self.now().timestamp())
        headers.update(verdict.headers)
        if not verdict.allowed:
            with self._lock:
                self.refused.append((verdict.kind, f"{method} {request.url.path}?{request.url.query}"))
            return self._refused(verdict, headers)
        try:
            return await self._serve(request, token, headers)
        finally:
            self.limits.done(token.login)

    def _refused(self, verdict, headers: dict[str, str]) -> Response:
        if verdict.kind == "primary":
            message = "API rate limit exceeded for user. If you reach out to GitHub Support for help, please include the request ID."
        else:
            headers["retry-after"] = str(verdict.retry_after)
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                "again. If you reach out to GitHub Support for help, please include the request ID."
            )
        status = self.refusal_status
        return JSONResponse(error(message, status, LIMIT_DOCS), status, headers)

    async def _serve(self, request: Request, token: Token, headers: dict[str, str]) -> Response:
        path, method = request.url.path, request.method
        for route in ROUTES:
            match = route.pattern.fullmatch(path)
            if match and route.method == method:
                break
        else:
            return JSONResponse(error("Not Found", 404), 404, headers)
        org = None
        if "org" in match.groupdict():
            with self._lock:
                org = self.orgs.get(match["org"].lower())
                if org is not None:
                    org.drop_cancelled(self.today())
            if org is None or not self._sees(token, org):
                return JSONResponse(error("Not Found", 404), 404, headers)
        if token.classic and route.classic:
            headers["x-accepted-oauth-scopes"] = ", ".join(route.classic)
        if not token.classic and route.fine:
            headers["x-accepted-github-permissions"] = "; ".join(route.fine)
        if not token.may(route.classic, route.fine):
            message = "Resource not accessible by personal access token"
            return JSONResponse(error(message, 403), 403, headers)
        if route.owners_only and org is not None and not _is_owner(org, token.login):
            return JSONResponse(error("Must be an organization owner.", 403), 403, headers)
        body = await request.body()
        ctx = Context(self, token, org, match.groupdict(), request.query_params, request.url, body)
        with self._lock:
            answer: Answer = route.handler(ctx)
        return JSONResponse(answer.body, answer.status, {**headers, **answer.headers})

    def _sees(self, token: Token, org: Org) -> bool:
        if org.member(token.login) is None:
            return False
        return token.classic or token.owner == org.login.lower()

    def user(self, login: str):
        """The member `login` of any organisation here, with their organisation."""
        for org in self.orgs.values():
            if (member := org.member(login)) is not None:
                return org, member
        return None


def _is_owner(org: Org, login: str) -> bool:
    member = org.member(login)
    return member is not None and member.role == "admin"
