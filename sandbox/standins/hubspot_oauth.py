"""OAuth routes of the HubSpot stand-in: consent page, token, introspect and revoke endpoints.
The codes, connections and tokens they hand out are kept in `TokenStore` (hubspot_tokens.py)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.standins.hubspot_errors import correlation_id
from sandbox.standins.hubspot_model import PortalData
from sandbox.standins.hubspot_tokens import OAuthError

if TYPE_CHECKING:
    from sandbox.standins.hubspot import HubSpotStandIn

TOKEN_VERSIONS = ("v1", "v3", "2026-03", "2026-09")


async def read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form body, or None when the body is not a form (e.g. JSON)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


def split_scopes(value: str | None) -> list[str]:
    return [s for s in (value or "").replace("+", " ").split(" ") if s]


def with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode({k: v for k, v in params.items() if v is not None})


def error_page(message: str) -> HTMLResponse:
    body = f"<!doctype html><html><head><title>HubSpot - error</title></head><body><h1>Authorization failed</h1><p id='error'>{html.escape(message)}</p></body></html>"
    return HTMLResponse(body, status_code=400)


def _consent_page(standin: HubSpotStandIn, portal: PortalData, params: dict[str, str]) -> HTMLResponse:
    def items(scopes: list[str]) -> str:
        return "".join(f"<li>{html.escape(s)}</li>" for s in scopes) or "<li>(none)</li>"

    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    title = f"Connect {html.escape(standin.app_name)} to {html.escape(portal.domain)}"
    body = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1 id="title">{title}</h1>
<p>Account: {html.escape(portal.domain)} (Hub ID {portal.portal_id})</p>
<h2>Required permissions</h2><ul id="required-scopes">{items(split_scopes(params.get("scope")))}</ul>
<h2>Optional permissions</h2><ul id="optional-scopes">{items(split_scopes(params.get("optional_scope")))}</ul>
<form method="post" action="/oauth/authorize/decision">{hidden}
<button type="submit" id="approve" name="decision" value="approve">Connect app</button>
<button type="submit" id="deny" name="decision" value="deny">Cancel</button>
</form>
</body></html>"""
    return HTMLResponse(body)


def _validate_authorize(standin: HubSpotStandIn, params: dict[str, str]) -> str | None:
    if params.get("client_id") != standin.client_id:
        return "Invalid client_id: this app does not exist."
    if not params.get("redirect_uri"):
        return "Missing redirect_uri."
    allowed = standin.registered_redirect_uris
    if allowed is not None and params["redirect_uri"] not in allowed:
        return "The redirect_uri does not match the app's redirect URLs."
    if not split_scopes(params.get("scope")):
        return "Missing scope: the authorization URL must request scopes."
    return None


def _install_portal(standin: HubSpotStandIn, params: dict[str, str]) -> PortalData | None:
    pinned = params.get("portal_id")
    if pinned:
        return standin.portals.get(int(pinned)) if pinned.isdigit() else None
    return standin.install_target()


async def authorize(request: Request) -> Response:
    standin: HubSpotStandIn = request.app.state.standin
    params = {k: v for k, v in request.query_params.items() if k in _AUTHORIZE_PARAMS}
    if "portal_id" in request.path_params:
        params["portal_id"] = str(request.path_params["portal_id"])
    problem = _validate_authorize(standin, params)
    portal = _install_portal(standin, params)
    if problem is None and portal is None:
        problem = "There is no HubSpot account to install this app into."
    return error_page(problem) if problem else _consent_page(standin, portal, params)


_AUTHORIZE_PARAMS = ("client_id", "scope", "optional_scope", "redirect_uri", "state")


async def authorize_decision(request: Request) -> Response:
    standin: HubSpotStandIn = request.app.state.standin
    form = await read_form(request) or {}
    problem = _validate_authorize(standin, form)
    portal = _install_portal(standin, form)
    if problem or portal is None:
        return error_page(problem or "Unknown HubSpot account.")
    redirect_uri, state = form["redirect_uri"], form.get("state")
    if form.get("decision") != "approve" or standin.take_deny_next():
        params = {
            "error": "access_denied",
            "error_description": "The user denied the request.",
            "state": state,
        }
        return RedirectResponse(with_query(redirect_uri, params), status_code=302)
    required = split_scopes(form.get("scope"))
    optional = [s for s in split_scopes(form.get("optional_scope")) if s not in required]
    scopes = [s for s in required + standin.granted_optional(optional) if s not in standin.withheld_scopes]
    code = standin.tokens.new_code(redirect_uri, portal.portal_id, portal.installer_user_id, scopes)
    return RedirectResponse(with_query(redirect_uri, {"code": code, "state": state}), status_code=302)


def _unknown_version(request: Request) -> Response | None:
    if request.path_params["version"] in TOKEN_VERSIONS:
        return None
    return JSONResponse(
        {"status": "error", "message": "Resource not found", "correlationId": correlation_id()},
        status_code=404,
    )


async def token(request: Request) -> Response:
    standin: HubSpotStandIn = request.app.state.standin
    early = _unknown_version(request) or await standin.faults.apply(request.url.path)
    if early is not None:
        return early
    form = await read_form(request)
    standin.record_token_request((form or {}).get("grant_type"))
    try:
        return JSONResponse(standin.tokens.grant(form or {}))
    except OAuthError as error:
        return error.response(request.path_params["version"], legacy_status=standin.legacy_status)


async def introspect(request: Request) -> Response:
    standin: HubSpotStandIn = request.app.state.standin
    early = _unknown_version(request) or await standin.faults.apply(request.url.path)
    if early is not None:
        return early
    form = await read_form(request) or {}
    try:
        standin.tokens.check_client(form)
    except OAuthError as error:
        return error.response()
    return JSONResponse(standin.tokens.introspect(form.get("token", ""), standin.app_id))


async def revoke(request: Request) -> Response:
    standin: HubSpotStandIn = request.app.state.standin
    early = _unknown_version(request) or await standin.faults.apply(request.url.path)
    if early is not None:
        return early
    form = await read_form(request) or {}
    try:
        standin.tokens.check_client(form)
    except OAuthError as error:
        return error.response()
    standin.tokens.revoke(form.get("token", ""))
    return Response(status_code=204)


async def delete_refresh_token(request: Request) -> Response:
    """v1's revocation (deprecated with the rest of OAuth v1, switched off 2027-02-16; the bot uses
    the date-versioned `POST /oauth/{version}/token/revoke` above): no client credentials, the
    token in the path, 204 No Content; an unknown token answers 404 as HubSpot's v1 does."""
    standin: HubSpotStandIn = request.app.state.standin
    early = await standin.faults.apply(request.url.path)
    if early is not None:
        return early
    if standin.tokens.revoke_refresh_token(request.path_params["token"]):
        return Response(status_code=204)
    return JSONResponse(
        {"status": "error", "message": "Refresh token not found", "correlationId": correlation_id()},
        status_code=404,
    )


def oauth_routes() -> list[Route]:
    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/authorize/decision", authorize_decision, methods=["POST"]),
        Route("/oauth/{portal_id:int}/authorize", authorize, methods=["GET"]),
        Route("/oauth/{version}/token", token, methods=["POST"]),
        Route("/oauth/{version}/token/introspect", introspect, methods=["POST"]),
        Route("/oauth/{version}/token/revoke", revoke, methods=["POST"]),
        Route("/oauth/v1/refresh-tokens/{token}", delete_refresh_token, methods=["DELETE"]),
    ]
