"""A local stand-in for the parts of Google's APIs Quolum Bot uses to read and give back Workspace licences.

Serve it with `serve_in_thread(standin.app)` and point `GOOGLE_TOKEN_URL` (``…/token``),
`GOOGLE_DIRECTORY_API_URL`, `GOOGLE_LICENSING_API_URL` and `GOOGLE_REPORTS_API_URL` at `server.url`
(Google serves them from oauth2.googleapis.com, admin.googleapis.com and licensing.googleapis.com).
Built from Google's discovery documents (admin directory_v1, reports_v1, licensing v1) and its guides:

    POST   /token                                                 JWT-bearer grant (google_tokens.py)
    GET    /admin/directory/v1/users?customer=|domain=&maxResults=(1-500, 100)&pageToken=
    GET    /admin/directory/v1/users/{userKey}                    admin.directory.user[.readonly]
    GET    /apps/licensing/v1/product/{productId}/users?customerId=&maxResults=(1-1000, 100)&pageToken=
    GET    /apps/licensing/v1/product/{productId}/sku/{skuId}/users?customerId=&…          apps.licensing
    GET    /apps/licensing/v1/product/{productId}/sku/{skuId}/user/{userId}
    DELETE /apps/licensing/v1/product/{productId}/sku/{skuId}/user/{userId}    -> 204
    POST   /apps/licensing/v1/product/{productId}/sku/{skuId}/user  {"userId"} -> the assignment
    GET    /admin/reports/v1/usage/users/{userKey|all}/dates/{YYYY-MM-DD}?parameters=accounts:last_login_time
           &maxResults=(1-1000, 1000)&pageToken=                  admin.reports.usage.readonly

Request pipeline (every request is first recorded in `requests`): an injected fault; the token
endpoint; a missing, unknown or expired (3,599 s on the injected clock) bearer -> 401 `authError`; the
quota of the API group per user (google_api.py); the endpoint's scope missing from the token -> 403
`insufficientPermissions`; the subject not an administrator -> 403 `forbidden` "Not Authorized to
access this resource/api"; a customer that is not the subject's -> 400 `badRequest` (Directory) or
`invalid` (License Manager: the customer ID or primary domain; not ``my_customer``).

`fields` (partial response, every Google JSON API) cuts an answer to the fields named. Google omits empty lists: a page with no users has no `users` key, an empty listing no `items`.
The usage report of a day is ready `lag_days` (1-3) days later: a later date answers 400 "Data for dates
later than … is not yet available. Please check back later".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultInjector
from .google_api import (
    ADMIN,
    INSUFFICIENT,
    LICENSING,
    NOT_AUTHORIZED,
    PageTokens,
    Quotas,
    error,
    max_results,
    out_of_range,
    parse_fields,
    select,
    unauthenticated,
)
from .google_seed import PRODUCT, PRODUCT_NAME, SKUS, Domain, User, google_time
from .google_tokens import Refused, Token, TokenAuthority

__all__ = ["GoogleStandIn", "SCOPE"]

_BASE = "https://www.googleapis.com/auth/"
SCOPE = {
    "directory": (f"{_BASE}admin.directory.user.readonly", f"{_BASE}admin.directory.user"),
    "licensing": (f"{_BASE}apps.licensing",),
    "reports": (f"{_BASE}admin.reports.usage.readonly",),
}
DIRECTORY, LICENSES, REPORTS = "/admin/directory/v1", "/apps/licensing/v1/product", "/admin/reports/v1"


class GoogleStandIn:
    """Google's token endpoint, Directory users, License Manager and Reports usage for seeded domains.

    `clock`: the injected clock (tokens, the usage reports' dates); `quota_clock`: real seconds, for
    the quotas. `lag_days`: how far behind the clock's day the newest usage report is."""

    def __init__(
        self,
        *,
        clock: Callable[[], float | datetime] = time.time,
        quota_clock: Callable[[], float] = time.monotonic,
        lag_days: int = 2,
    ) -> None:
        self._clock, self._quota_clock = clock, quota_clock
        self.lag_days = lag_days
        self._lock = threading.Lock()
        self.domains: dict[str, Domain] = {}  # customer id -> domain
        self.authority = TokenAuthority()
        self.quotas = Quotas()
        self._pages = PageTokens()
        self._requests: list[dict[str, object]] = []
        self.unassigned: list[tuple[str, str, str]] = []  # (product, sku, email), each accepted DELETE
        self.assigned: list[tuple[str, str, str]] = []  # each accepted POST
        self.faults = FaultInjector()
        methods = ["GET", "POST", "DELETE", "PATCH", "PUT"]
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=methods)])

    # --- set-up and inspection ---------------------------------------------------------------------
    def add_domain(self, domain: Domain) -> Domain:
        with self._lock:
            self.domains[domain.customer_id] = domain
        return domain

    @property
    def requests(self) -> list[dict[str, object]]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def now(self) -> float:
        now = self._clock()
        return now.timestamp() if isinstance(now, datetime) else float(now)

    def newest_report(self) -> date:
        """The newest day whose usage report is ready."""
        return datetime.fromtimestamp(self.now(), UTC).date() - timedelta(days=self.lag_days)

    def _subject(self, email: str) -> tuple[str, str] | None:
        with self._lock:
            for domain in self.domains.values():
                user = domain.find(email) if "@" in email else None
                if user is not None:
                    return domain.customer_id, user.email
        return None

    # --- pipeline ----------------------------------------------------------------------------------
    async def _dispatch(self, request: Request) -> Response:
        arrived = self._quota_clock()  # Google counts a query when it arrives
        path, body = request.url.path, await request.body()
        with self._lock:
            self._requests.append(
                {"method": request.method, "path": path, "query": dict(request.query_params)}
            )
        injected = await self.faults.apply(path)
        if injected is not None:
            return injected
        if path == "/token" and request.method == "POST":
            form = dict(parse_qsl(body.decode(errors="replace")))
            try:
                answer = self.authority.exchange(form, self.now(), self._subject)
            except Refused as refused:
                return JSONResponse(refused.body(), status_code=refused.status)
            return JSONResponse(answer, headers={"Cache-Control": "no-cache, no-store, max-age=0"})
        routes = (
            (DIRECTORY, "directory", ADMIN),
            (LICENSES, "licensing", LICENSING),
            (REPORTS, "reports", ADMIN),
        )
        for prefix, api, group in routes:
            if path.startswith(prefix + "/"):
                parts = [p for p in path.removeprefix(prefix).split("/") if p]
                return self._api(request, api, group, parts, body, arrived)
        return error(404, "notFound", "Not Found")

    def _api(
        self, request: Request, api: str, group: str, parts: list[str], body: bytes, arrived: float
    ) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self.authority.token(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or token.expires_at <= self.now():
            return unauthenticated()
        project = token.client_id[:12]
        if not self.quotas.allow(group, token.client_id, token.subject, arrived):
            return self.quotas.refusal(group, project)
        if not token.scopes & set(SCOPE[api]):
            return error(403, "insufficientPermissions", INSUFFICIENT)
        domain = self.domains[token.customer_id]
        with self._lock:
            acting = domain.find(token.subject)
        if acting is None or acting.suspended or not (acting.admin or acting.delegated_admin):
            return error(403, "forbidden", NOT_AUTHORIZED)
        handler = {"directory": self._directory, "licensing": self._licensing, "reports": self._reports}[api]
        return handler(request, domain, token, parts, body)

    # --- Directory ---------------------------------------------------------------------------------
    def _directory(self, request: Request, domain: Domain, token: Token, parts: list[str], body) -> Response:
        if request.method != "GET" or not parts or parts[0] != "users" or len(parts) > 2:
            return error(404, "notFound", "Not Found")
        if len(parts) == 2:
            with self._lock:
                user = domain.find(parts[1])
            if user is None:
                return error(404, "notFound", "Resource Not Found: userKey")
            return _partial(request, user.to_json(domain.customer_id))
        params = request.query_params
        customer, name = params.get("customer"), params.get("domain")
        if customer not in (None, "my_customer", domain.customer_id) or name not in (None, domain.domain):
            return error(400, "badRequest", "Bad Request")
        if customer is None and name is None:
            return error(400, "badRequest", "Bad Request")
        size = max_results(params.get("maxResults"), 100, 500)
        if size is None:
            return out_of_range("maxResults", params.get("maxResults"), 500)
        query = ("users", domain.customer_id, size)
        offset = self._pages.offset(params.get("pageToken"), query)
        if offset is None:
            return error(400, "invalid", "Invalid page token")
        with self._lock:
            users = list(domain.users)
        answer: dict[str, object] = {"kind": "admin#directory#users", "etag": f'"{len(users)}-{offset}"'}
        chunk = users[offset : offset + size]
        if chunk:
            answer["users"] = [u.to_json(domain.customer_id) for u in chunk]
        if following := self._pages.next(query, offset, size, len(users)):
            answer["nextPageToken"] = following
        return _partial(request, answer)

    # --- License Manager ---------------------------------------------------------------------------
    def _licensing(self, request: Request, domain: Domain, token: Token, parts: list[str], body) -> Response:
        method, n = request.method, len(parts)
        if method == "GET" and n in (2, 4) and parts[-1] == "users" and (n == 2 or parts[1] == "sku"):
            return self._assignments(request, domain, parts[0], parts[2] if n == 4 else None)
        if n == 4 and parts[1] == "sku" and parts[3] == "user" and method == "POST":
            return self._assign(domain, parts[0], parts[2], body)
        if n == 5 and parts[1] == "sku" and parts[3] == "user" and method in ("GET", "DELETE"):
            product, sku, key = parts[0], parts[2], parts[4]
            with self._lock:
                user = domain.find(key)
                holds = user is not None and product == PRODUCT and user.sku == sku
                if holds and method == "DELETE":
                    domain.set_sku(user.email, None)
                    self.unassigned.append((product, sku, user.email))
            if not holds:
                return error(404, "notFound", "User does not have a license for specified sku and product")
            return Response(status_code=204) if method == "DELETE" else JSONResponse(_assignment(user, sku))
        return error(404, "notFound", "Not Found")

    def _assignments(self, request: Request, domain: Domain, product: str, sku: str | None) -> Response:
        params = request.query_params
        if params.get("customerId") not in (domain.customer_id, domain.domain):
            return error(400, "invalid", "Invalid customerId")
        size = max_results(params.get("maxResults"), 100, 1000)
        if size is None:
            return out_of_range("maxResults", params.get("maxResults"), 1000)
        query = ("licences", domain.customer_id, product, sku, size)
        offset = self._pages.offset(params.get("pageToken"), query)
        if offset is None:
            return error(400, "invalid", "Invalid page token")
        with self._lock:
            held = [u for u in domain.licensed(sku)] if product == PRODUCT else []
        answer: dict[str, object] = {"kind": "licensing#licenseAssignmentList", "etag": f'"{len(held)}"'}
        if chunk := held[offset : offset + size]:
            answer["items"] = [_assignment(u, u.sku or "") for u in chunk]
        if following := self._pages.next(query, offset, size, len(held)):
            answer["nextPageToken"] = following
        return _partial(request, answer)

    def _assign(self, domain: Domain, product: str, sku: str, body: bytes) -> Response:
        try:
            email = str(json.loads(body or b"{}").get("userId") or "")
        except (ValueError, AttributeError):
            return error(400, "parseError", "Parse Error")
        if product != PRODUCT or sku not in SKUS:
            return error(400, "invalid", "Invalid productId or skuId")
        with self._lock:
            user = domain.find(email) if email else None
            if user is None:
                return error(404, "notFound", "User does not exist.")
            if user.sku is not None:
                return error(409, "duplicate", "User already has a license for the specified product and SKU")
            domain.set_sku(user.email, sku)
            self.assigned.append((product, sku, user.email))
            user = domain.find(user.email)
        return JSONResponse(_assignment(user, sku))

    # --- Reports -----------------------------------------------------------------------------------
    def _reports(self, request: Request, domain: Domain, token: Token, parts: list[str], body) -> Response:
        if (
            request.method != "GET"
            or len(parts) != 5
            or parts[:2] != ["usage", "users"]
            or parts[3] != "dates"
        ):
            return error(404, "notFound", "Not Found")
        try:
            day = date.fromisoformat(parts[4])
        except ValueError:
            return error(
                400, "invalid", f"Invalid value '{parts[4]}'. Values must match the format YYYY-MM-DD"
            )
        newest = self.newest_report()
        if day > newest:
            message = f"Data for dates later than {newest.isoformat()} is not yet available. Please check back later"
            return error(400, "invalid", message)
        params = request.query_params
        if params.get("customerId") not in (None, domain.customer_id):
            return error(400, "badRequest", "Bad Request")
        size = max_results(params.get("maxResults"), 1000, 1000)
        if size is None:
            return out_of_range("maxResults", params.get("maxResults"), 1000)
        wanted = [p for p in (params.get("parameters") or "").split(",") if p]
        query = ("usage", domain.customer_id, parts[2], day, size, tuple(wanted))
        offset = self._pages.offset(params.get("pageToken"), query)
        if offset is None:
            return error(400, "invalid", "Invalid page token")
        with self._lock:
            users = [u for u in domain.users if u.created.date() <= day]
        if parts[2] != "all":
            users = [u for u in users if parts[2].lower() in (u.id, u.email.lower())]
        answer: dict[str, object] = {"kind": "admin#reports#usageReports", "etag": f'"{day}-{offset}"'}
        if chunk := users[offset : offset + size]:
            answer["usageReports"] = [_usage(u, day, domain.customer_id, wanted) for u in chunk]
        if following := self._pages.next(query, offset, size, len(users)):
            answer["nextPageToken"] = following
        return _partial(request, answer)


def _partial(request: Request, body: dict) -> JSONResponse:
    """The answer, cut to the `fields` asked for (Google's partial response)."""
    fields = request.query_params.get("fields")
    return JSONResponse(select(body, parse_fields(fields)) if fields else body)


def _assignment(user: User, sku: str) -> dict[str, str]:
    link = f"https://licensing.googleapis.com/apps/licensing/v1/product/{PRODUCT}/sku/{sku}/user/{user.email}"
    return {
        "kind": "licensing#licenseAssignment",
        "etags": f'"{user.id[-6:]}{sku[-4:]}"',
        "selfLink": link,
        "userId": user.email,
        "productId": PRODUCT,
        "skuId": sku,
        "skuName": SKUS.get(sku, sku),
        "productName": PRODUCT_NAME,
    }


def _usage(user: User, day: date, customer_id: str, wanted: list[str]) -> dict[str, object]:
    login = user.login_as_of(day)
    parameters = []
    if not wanted or "accounts:last_login_time" in wanted:
        moment = google_time(login) if login else "1970-01-01T00:00:00.000Z"
        parameters.append({"name": "accounts:last_login_time", "datetimeValue": moment})
    return {
        "kind": "admin#reports#usageReport",
        "date": day.isoformat(),
        "etag": f'"{user.id[-6:]}"',
        "entity": {"customerId": customer_id, "userEmail": user.email, "profileId": user.id, "type": "USER"},
        "parameters": parameters,
    }
