"""The HubSpot stand-in's error bodies, as HubSpot sends them: `{"status": "error", "message",
"correlationId", "category"...}` for the API, 403 MISSING_SCOPES, 429 RATE_LIMIT with its policy name."""

from __future__ import annotations

import uuid

from starlette.responses import JSONResponse

AUTH_NOT_FOUND = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def correlation_id() -> str:
    return str(uuid.uuid4())


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
