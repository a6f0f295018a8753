"""The pipeline every API route of the HubSpot stand-in goes through.

`api_endpoint` applies (in this order) injected faults, bearer-token
authentication (401), the per-portal rate limits (429), the route's scopes
(403), and finally the handler. Handlers get the request and the portal and
return a JSON-able dict or a Response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sandbox.standins.hubspot_errors import AUTH_NOT_FOUND, ValidationError, api_error, missing_scopes
from sandbox.standins.hubspot_model import PortalData

if TYPE_CHECKING:
    from sandbox.standins.hubspot import HubSpotStandIn

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
        fault = await standin.faults.apply(request.url.path, request.method)
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
