"""API half of the HubSpot stand-in: auth, scopes, rate limits and the read endpoints.

Every API route goes through `api_endpoint`, which applies (in this order)
injected faults, bearer-token authentication (401), the per-portal rate limits
(429), the route's scopes (403), and finally the handler. Handlers get the
request and the portal and return a JSON-able dict or a Response.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.standins.faults import RollingWindow
from sandbox.standins.hubspot_oauth import correlation_id
from sandbox.standins.hubspot_seed import (
    CREATE_PROPERTY,
    ENGAGEMENT_TYPES,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    LoginAttempt,
    Owner,
    PortalData,
    Record,
    User,
    default_properties,
    property_schema,
)

if TYPE_CHECKING:
    from sandbox.standins.hubspot import HubSpotStandIn

TEN_SECONDLY_LIMIT = 110
SEARCH_SECONDLY_LIMIT = 5
MAX_SEARCH_RESULTS = 10_000
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
LOGIN_HISTORY_MS = 90 * 86_400_000
OBJECT_TYPE_IDS = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-48": "calls",
    "0-49": "emails",
    "0-47": "meetings",
    "0-46": "notes",
    "0-27": "tasks",
}
AUTH_NOT_FOUND = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


# --- errors --------------------------------------------------------------------------------


def api_error(status_code: int, message: str, category: str | None = None, **extra: object) -> JSONResponse:
    body: dict[str, object] = {"status": "error", "message": message, "correlationId": correlation_id()}
    if category:
        body["category"] = category
    body.update(extra)
    return JSONResponse(body, status_code=status_code)


class ValidationError(Exception):
    def response(self) -> JSONResponse:
        return api_error(400, str(self), "VALIDATION_ERROR")


def missing_scopes(scopes: tuple[str, ...]) -> JSONResponse:
    return api_error(
        403,
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes.",
        "MISSING_SCOPES",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(scopes)},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


def rate_limited(policy: str) -> JSONResponse:
    name = "ten_secondly_rolling" if policy == "TEN_SECONDLY_ROLLING" else "secondly"
    return JSONResponse(
        {
            "status": "error",
            "message": f"You have reached your {name} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": policy,
        },
        status_code=429,
    )


# --- rate limits ---------------------------------------------------------------------------


class RateLimiter:
    """110 requests per rolling 10 s per portal; CRM search 5 per rolling second instead (searches are
    not counted in the 10-second budget and carry no rate-limit headers, per HubSpot's usage
    guidelines). Requests count when they arrive."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.ten_secondly = RollingWindow(TEN_SECONDLY_LIMIT, 10.0, clock)
        self.secondly = RollingWindow(SEARCH_SECONDLY_LIMIT, 1.0, clock)

    @property
    def violations(self) -> int:
        return self.ten_secondly.violations + self.secondly.violations

    def check(
        self, portal_id: int, search: bool, arrived: float | None = None
    ) -> tuple[Response | None, dict[str, str]]:
        if search:
            allowed = self.secondly.hit(portal_id, arrived)[0]
            return (None if allowed else rate_limited("SECONDLY")), {}
        allowed, remaining, _ = self.ten_secondly.hit(portal_id, arrived)
        headers = {
            "X-HubSpot-RateLimit-Max": str(TEN_SECONDLY_LIMIT),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
        return (None if allowed else rate_limited("TEN_SECONDLY_ROLLING")), headers


# --- the common wrapper ---------------------------------------------------------------------

Handler = Callable[[Request, PortalData], Awaitable[dict | Response]]
Scopes = tuple[str, ...] | Callable[[Request], tuple[str, ...]]


def _authenticate(
    standin: HubSpotStandIn, request: Request
) -> tuple[PortalData | None, list[str], Response | None]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    access = standin.tokens.lookup(value.strip()) if scheme.lower() == "bearer" else None
    portal = standin.portals.get(access.connection.portal_id) if access else None
    if access is None or not access.valid or portal is None:
        return None, [], api_error(401, AUTH_NOT_FOUND, "INVALID_AUTHENTICATION")
    now = standin.clock()
    if now >= access.expires_at:
        message = (
            f"The OAuth token used to make this call expired {int(now - access.expires_at)} second(s) ago."
        )
        return None, [], api_error(401, message, "EXPIRED_AUTHENTICATION")
    return portal, access.connection.scopes, None


def api_endpoint(handler: Handler, scopes: Scopes, *, search: bool = False):
    async def endpoint(request: Request) -> Response:
        standin: HubSpotStandIn = request.app.state.standin
        arrived = standin.clock()  # limits count arrivals; `faults.latency` delays the answer
        fault = await standin.faults.apply(request.url.path)
        if fault is not None:
            return fault
        portal, granted, problem = _authenticate(standin, request)
        if problem is not None:
            return problem
        limited, headers = standin.limiter.check(portal.portal_id, search, arrived)
        response = limited or await _authorized(handler, request, portal, granted, scopes)
        response.headers.update(headers)
        return response

    return endpoint


async def _authorized(handler: Handler, request: Request, portal, granted, scopes: Scopes) -> Response:
    needed = scopes(request) if callable(scopes) else scopes
    if needed and not set(needed) & set(granted):
        return missing_scopes(needed)
    cache = request.app.state.standin.response_cache
    key = None
    if cache is not None:
        key = (portal.portal_id, request.method, request.url.path, request.url.query, await request.body())
        if (body := cache.get(key)) is not None:
            return Response(body, media_type="application/json")
    try:
        result = await handler(request, portal)
    except ValidationError as error:
        return error.response()
    if isinstance(result, Response):
        return result
    body = msgspec.json.encode(result)
    if key is not None:
        cache[key] = body
    return Response(body, media_type="application/json")


# --- paging helpers -------------------------------------------------------------------------


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def int_param(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValidationError(f"{name} must be an integer between 1 and {maximum}; got {raw!r}")
    return int(raw)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("o:") and text[2:].isdigit():
            return int(text[2:])
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise ValidationError(f"Invalid paging cursor: {cursor!r}")


def cursor_page(items: list, request: Request, default: int, maximum: int) -> tuple[list, dict | None]:
    limit = int_param(request, "limit", default, maximum)
    offset = decode_cursor(request.query_params.get("after"))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, ({"next": {"after": encode_cursor(offset + limit)}} if more else None)


def listing(results: list[dict], paging: dict | None) -> dict:
    return {"results": results, "paging": paging} if paging else {"results": results}


# --- account, users, owners, logins ---------------------------------------------------------


async def account_details(request: Request, portal: PortalData) -> dict:
    return {
        "portalId": portal.portal_id,
        "accountType": portal.account_type,
        "timeZone": portal.time_zone,
        "companyCurrency": portal.company_currency,
        "additionalCurrencies": list(portal.additional_currencies),
        "utcOffset": portal.utc_offset,
        "utcOffsetMilliseconds": portal.utc_offset_milliseconds,
        "uiDomain": portal.ui_domain,
        "dataHostingLocation": portal.data_hosting_location,
    }


def user_json(user: User) -> dict:
    body = {
        "id": str(user.id),
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "roleIds": list(user.role_ids),
        "superAdmin": user.super_admin,
    }
    if user.role_id:
        body["roleId"] = user.role_id
    if user.primary_team_id:
        body["primaryTeamId"] = user.primary_team_id
    if user.seat_names:
        body["seatNames"] = list(user.seat_names)
    return body


async def list_users(request: Request, portal: PortalData) -> dict:
    users = sorted(portal.users, key=lambda u: u.id)
    page, paging = cursor_page(users, request, 100, 100)
    return listing([user_json(u) for u in page], paging)


async def list_roles(request: Request, portal: PortalData) -> dict:
    roles = [
        {"id": r.id, "name": r.name, "requiresBillingWrite": r.requires_billing_write} for r in portal.roles
    ]
    return {"results": roles}


async def list_teams(request: Request, portal: PortalData) -> dict:
    """`GET /settings/v3/users/teams`: every team with its members (primary and secondary)."""
    return {
        "results": [
            {
                "id": team.id,
                "name": team.name,
                "userIds": [str(u.id) for u in portal.users if u.primary_team_id == team.id],
                "secondaryUserIds": [],
            }
            for team in portal.teams
        ]
    }


def owner_json(owner: Owner) -> dict:
    return {
        "id": str(owner.id),
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id_including_inactive,
        "createdAt": iso(owner.created_at_ms),
        "updatedAt": iso(owner.updated_at_ms),
        "archived": owner.archived,
        "teams": [{"id": t.id, "name": t.name, "primary": i == 0} for i, t in enumerate(owner.teams)],
    }


async def list_owners(request: Request, portal: PortalData) -> dict:
    archived = request.query_params.get("archived", "false").lower() == "true"
    email = request.query_params.get("email")
    owners = [o for o in portal.owners if o.archived == archived and (not email or o.email == email)]
    page, paging = cursor_page(sorted(owners, key=lambda o: o.id), request, 100, 500)
    return listing([owner_json(o) for o in page], paging)


def login_json(attempt: LoginAttempt) -> dict:
    return {
        "id": str(attempt.id),
        "loginAt": iso(attempt.login_at_ms),
        "loginSucceeded": attempt.login_succeeded,
        "userId": attempt.user_id,
        "email": attempt.email,
        "ipAddress": attempt.ip_address,
        "location": attempt.location,
        "countryCode": attempt.country_code,
        "userAgent": attempt.user_agent,
    }


async def list_logins(request: Request, portal: PortalData) -> dict:
    now_ms = int(request.app.state.standin.clock() * 1000)
    user_id = request.query_params.get("userId")
    attempts = [
        a
        for a in portal.logins
        if now_ms - LOGIN_HISTORY_MS <= a.login_at_ms <= now_ms and (not user_id or str(a.user_id) == user_id)
    ]
    attempts.sort(key=lambda a: (a.login_at_ms, a.id), reverse=True)
    order = request.app.state.standin.login_order
    if order == "oldest":
        attempts.reverse()
    elif order == "shuffled":  # the same permutation for every page of one history
        random.Random(portal.portal_id).shuffle(attempts)
    page, paging = cursor_page(attempts, request, 100, 200)
    return listing([login_json(a) for a in page], paging)


async def uninstall(request: Request, portal: PortalData) -> Response:
    request.app.state.standin.tokens.uninstall(portal.portal_id)
    return Response(status_code=204)


# --- CRM search -----------------------------------------------------------------------------


def resolve_object_type(name: str) -> str | None:
    name = OBJECT_TYPE_IDS.get(name, name.lower())
    return name if name in OBJECT_TYPES else None


def search_scopes(request: Request) -> tuple[str, ...]:
    object_type = resolve_object_type(request.path_params["object_type"])
    if object_type is None:
        return ()
    if object_type in ENGAGEMENT_TYPES:
        return ("crm.objects.contacts.read",)
    return (f"crm.objects.{object_type}.read",)


def parse_ms(value: object) -> int:
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a valid date: use epoch milliseconds or ISO 8601") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def parse_number(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        raise ValidationError(f"{value!r} is not a valid number") from None


Predicate = Callable[[Record], bool]


def _converter(kind: str) -> Callable[[object], object]:
    if kind == "datetime":
        return parse_ms
    if kind == "number":
        return parse_number
    return lambda v: str(v).lower()


def _compile_filter(spec: dict, schema: dict) -> Predicate:
    name, operator = spec.get("propertyName"), str(spec.get("operator", "EQ")).upper()
    if name not in schema:
        raise ValidationError(f"There was a problem with the request: property {name!r} does not exist")
    kind, getter = schema[name]
    convert = _converter(kind)

    def value(r: Record):
        v = getter(r)
        return None if v is None else (v.lower() if isinstance(v, str) else v)

    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        wanted = operator == "HAS_PROPERTY"
        return lambda r: (value(r) not in (None, "")) == wanted
    if operator in ("IN", "NOT_IN"):
        choices = {convert(v) for v in spec.get("values") or []}
        return (lambda r: value(r) in choices) if operator == "IN" else (lambda r: value(r) not in choices)
    if "value" not in spec:
        raise ValidationError(f"Filter on {name!r} with operator {operator} needs a value")
    target = convert(spec["value"])
    return _comparison(operator, value, target, convert(spec.get("highValue", spec["value"])))


def _comparison(operator: str, value, target, high) -> Predicate:
    ordered = {
        "LT": lambda v: v < target,
        "LTE": lambda v: v <= target,
        "GT": lambda v: v > target,
        "GTE": lambda v: v >= target,
        "BETWEEN": lambda v: target <= v <= high,
    }
    if operator == "EQ":
        return lambda r: value(r) == target
    if operator == "NEQ":
        return lambda r: value(r) != target
    if operator == "CONTAINS_TOKEN":
        return lambda r: isinstance(value(r), str) and str(target).strip("*") in value(r)
    if operator not in ordered:
        raise ValidationError(f"Unknown filter operator {operator!r}")
    test = ordered[operator]
    return lambda r: (v := value(r)) is not None and test(v)


@dataclass
class SearchQuery:
    groups: list[list[Predicate]]
    sort: tuple[str, bool] | None  # (property, descending)
    properties: list[str] | None
    limit: int
    offset: int
    text: str | None


def _check_filter_limits(groups: list) -> None:
    if len(groups) > MAX_FILTER_GROUPS:
        raise ValidationError(f"Too many filter groups: {len(groups)} (the maximum is {MAX_FILTER_GROUPS})")
    for group in groups:
        count = len(group.get("filters") or [])
        if count > MAX_FILTERS_PER_GROUP:
            raise ValidationError(
                f"Too many filters in a group: {count} (the maximum is {MAX_FILTERS_PER_GROUP})"
            )
    total = sum(len(g.get("filters") or []) for g in groups)
    if total > MAX_FILTERS:
        raise ValidationError(f"Too many filters: {total} (the maximum across all groups is {MAX_FILTERS})")


def _parse_sort(sorts: list, schema: dict) -> tuple[str, bool] | None:
    if not sorts:
        return None
    if len(sorts) > 1:
        raise ValidationError("Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):
        name, descending = sort.lstrip("-"), sort.startswith("-")
    else:
        name, descending = (
            sort.get("propertyName"),
            str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING",
        )
    if name not in schema:
        raise ValidationError(f"Cannot sort on unknown property {name!r}")
    return name, descending


def _parse_paging(body: dict) -> tuple[int, int]:
    limit, after = body.get("limit", 10), body.get("after") or "0"
    if isinstance(limit, str) and limit.isdigit():
        limit = int(limit)
    if not isinstance(limit, int) or not 1 <= limit <= 200:
        raise ValidationError(f"limit must be an integer between 1 and 200; got {limit!r}")
    if not str(after).isdigit():
        raise ValidationError(f"Invalid paging cursor after={after!r}")
    offset = int(after)
    if offset + limit > MAX_SEARCH_RESULTS:
        raise ValidationError(
            f"Paging past {MAX_SEARCH_RESULTS} results is not supported: after={offset}, limit={limit}. "
            "Narrow the query (for example by date range) instead."
        )
    return limit, offset


def parse_search(body: object, object_type: str) -> SearchQuery:
    if not isinstance(body, dict):
        raise ValidationError("Invalid input JSON: expected an object")
    schema = property_schema(object_type)
    groups = body.get("filterGroups") or []
    _check_filter_limits(groups)
    compiled = [[_compile_filter(f, schema) for f in g.get("filters") or []] for g in groups]
    text = body.get("query")
    if text is not None and len(str(text)) > 3000:
        raise ValidationError("query must be at most 3000 characters")
    limit, offset = _parse_paging(body)
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, list):
        raise ValidationError("properties must be a list of property names")
    return SearchQuery(
        compiled, _parse_sort(body.get("sorts") or [], schema), properties, limit, offset, text
    )


def _text_match(object_type: str, text: str) -> Predicate:
    needle = text.lower()
    getters = [g for kind, g in property_schema(object_type).values() if kind == "string"]
    return lambda r: any(needle in str(g(r)).lower() for g in getters)


def run_search(records: list[Record], object_type: str, query: SearchQuery) -> tuple[int, list[Record]]:
    matches = [r for r in records if not r.archived]
    if query.groups:
        matches = [r for r in matches if any(all(p(r) for p in group) for group in query.groups)]
    if query.text:
        test = _text_match(object_type, query.text)
        matches = [r for r in matches if test(r)]
    matches.sort(key=lambda r: r.id)
    if query.sort:
        getter = property_schema(object_type)[query.sort[0]][1]
        present = sorted((r for r in matches if getter(r) is not None), key=getter, reverse=query.sort[1])
        matches = present + [r for r in matches if getter(r) is None]
    return len(matches), matches[query.offset : query.offset + query.limit]


def format_value(kind: str, value) -> str | None:
    if value is None:
        return None
    return iso(value) if kind == "datetime" else str(value)


def record_json(record: Record, names: list[str] | None) -> dict:
    schema = property_schema(record.object_type)
    always = (CREATE_PROPERTY[record.object_type], MODIFIED_PROPERTY[record.object_type], "hs_object_id")
    wanted = list(default_properties(record.object_type)) if names is None else list(always) + list(names)
    properties = {n: format_value(schema[n][0], schema[n][1](record)) for n in wanted if n in schema}
    return {
        "id": str(record.id),
        "properties": properties,
        "createdAt": iso(record.created_ms),
        "updatedAt": iso(record.updated_ms),
        "archived": False,
    }


async def search(request: Request, portal: PortalData) -> dict:
    object_type = resolve_object_type(request.path_params["object_type"])
    if object_type is None:
        raise ValidationError(f"Unable to infer object type from: {request.path_params['object_type']}")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ValidationError("Invalid input JSON on line 1") from None
    query = parse_search(body, object_type)
    total, page = run_search(portal.records.get(object_type, []), object_type, query)
    result = {"total": total, "results": [record_json(r, query.properties) for r in page]}
    if query.offset + query.limit < total:
        result["paging"] = {"next": {"after": str(query.offset + query.limit)}}
    return result


def api_routes() -> list[Route]:
    users_scopes = ("settings.users.read", "crm.objects.users.read")
    search_endpoint = api_endpoint(search, search_scopes, search=True)
    return [
        Route("/account-info/v3/details", api_endpoint(account_details, ("oauth",))),
        Route("/settings/v3/users/", api_endpoint(list_users, users_scopes)),
        Route("/settings/v3/users", api_endpoint(list_users, users_scopes)),
        Route("/settings/v3/users/roles", api_endpoint(list_roles, users_scopes)),
        Route("/settings/v3/users/teams", api_endpoint(list_teams, ("settings.users.teams.read",))),
        Route("/crm/v3/owners/", api_endpoint(list_owners, ("crm.objects.owners.read",))),
        Route("/crm/v3/owners", api_endpoint(list_owners, ("crm.objects.owners.read",))),
        Route("/account-info/v3/activity/login", api_endpoint(list_logins, ("account-info.security.read",))),
        Route("/appinstalls/v3/external-install", api_endpoint(uninstall, ("oauth",)), methods=["DELETE"]),
        Route("/crm/v3/objects/{object_type}/search", search_endpoint, methods=["POST"]),
        Route("/crm/objects/{version}/{object_type}/search", search_endpoint, methods=["POST"]),
    ]
