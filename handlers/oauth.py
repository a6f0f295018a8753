"""Browser routes of the provider OAuth flow: the Connect link and the callback page.

`/oauth/{provider}/start` checks the link before sending anyone to the
provider (an expired link gets a friendly page here, not an error there) and
binds the state to the browser that opened it first, through a short-lived cookie
holding a random value whose hash is stored with the state; `/oauth/{provider}/callback`
requires that cookie, so a callback URL carried to another browser, a start link
opened elsewhere (or a state issued to another workspace) is refused without
consuming anything.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from messages.pages import page
from providers.plugin import ProviderSpec
from services.connect_outcomes import LINK_PROBLEMS, ConnectOutcome
from services.connections import STATE_TTL, ConnectionsService

COOKIE = "quolum_connect"
MAX_PARAM = 2048
DENIED = "You cancelled on {provider}'s page, so Quolum was not connected. Nothing was changed."
PROVIDER_ERROR = "{provider} did not connect Quolum ({error}). Nothing was changed."
NOT_FOUND = ConnectOutcome(False, "Page not found", "There is no such Connect page.", 404)


def show(outcome: ConnectOutcome) -> Response:
    return page(outcome.title, outcome.message, status=outcome.status, hint=outcome.hint)


def routes(service: ConnectionsService) -> list[Route]:
    secure = service.settings.public_url.startswith("https://")

    def oauth_provider(request: Request) -> ProviderSpec | None:
        spec = service.providers.registry.find(request.path_params["provider"])
        return spec if spec is not None and spec.consent is not None else None

    async def start(request: Request) -> Response:
        spec = oauth_provider(request)
        if spec is None:
            return show(NOT_FOUND)
        state = request.query_params.get("state", "")[:MAX_PARAM]
        # The browser is bound by a random value of its own, not the state: a forwarded start link or a
        # callback URL carries the state, never this cookie. The same browser may open the link again.
        held = request.cookies.get(COOKIE, "")
        binding = held if 20 <= len(held) <= 100 else secrets.token_urlsafe(32)
        opened = await service.open_link(spec, state, binding)
        if isinstance(opened, ConnectOutcome):
            return show(opened)
        response = RedirectResponse(opened, status_code=302)
        response.set_cookie(
            COOKIE,
            binding,
            max_age=int(STATE_TTL.total_seconds()),
            path=f"/oauth/{spec.key}",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def callback(request: Request) -> Response:
        spec = oauth_provider(request)
        if spec is None:
            return show(NOT_FOUND)
        params = {k: v[:MAX_PARAM] for k, v in request.query_params.items()}
        outcome = await _callback_outcome(service, spec, params, request.cookies.get(COOKIE))
        response = show(outcome)
        response.delete_cookie(
            COOKIE, path=f"/oauth/{spec.key}", secure=secure, httponly=True, samesite="lax"
        )
        return response

    return [
        Route("/oauth/{provider}/start", start, methods=["GET"]),
        Route("/oauth/{provider}/callback", callback, methods=["GET"]),
    ]


async def _callback_outcome(
    service: ConnectionsService, spec: ProviderSpec, params: dict, cookie: str | None
) -> ConnectOutcome:
    if "error" in params:
        if params["error"] == "access_denied":
            message = DENIED.format(provider=spec.display_name)
            return ConnectOutcome(
                False,
                "Nothing was connected",
                message,
                200,
                "To connect later, run /quolum connect in Slack.",
            )
        error = params.get("error_description") or params["error"]
        return ConnectOutcome(
            False,
            "Nothing was connected",
            PROVIDER_ERROR.format(provider=spec.display_name, error=error[:200]),
            400,
            LINK_PROBLEMS["unknown"].hint,
        )
    state, code = params.get("state", ""), params.get("code", "")
    if not state or not code:
        return LINK_PROBLEMS["unknown"]
    if problem := await service.link_problem(state, cookie):
        return problem
    return await service.complete_oauth(spec, state, code)
