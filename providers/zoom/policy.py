"""Zoom's retry policy and failure classification (providers/retry.py `decide`, providers/failures.py).

Zoom's API answers errors as ``{"code": …, "message": …}``: 124 an invalid or expired access token
(401), 4711 a token without the endpoint's scope (HTTP 400, not 403), 1001 a user that does not
exist (404), 429 over a rate limit, with ``Retry-After``. Its token endpoint answers OAuth's
``{"reason": …, "error": …}``: ``invalid_client`` for a wrong client ID or secret, or a deactivated
app. The code is kept as the error's `category`, the OAuth error as `oauth_error`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from providers import failures
from providers.errors import ProviderError
from providers.failures import Failure, Operation
from providers.retry import ErrorInfo, RetryPolicy

INVALID_TOKEN, MISSING_SCOPE, NO_SUCH_USER = "124", "4711", "1001"
NAME = "Zoom"
REVOKED = "Zoom no longer accepts the app's credentials: its secret was regenerated, or it was deactivated"
EXPIRED = "Zoom no longer accepts Quolum's access token"
SCOPES_IN_MESSAGE = re.compile(r"scopes:\s*\[([^\]]*)\]")


@dataclass(frozen=True)
class ZoomPolicy(RetryPolicy):
    """Zoom: 429 waits as long as `Retry-After` says (the base rule); errors read as above."""

    provider: str = "zoom"
    display_name: str = NAME

    def error_info(self, body: Any) -> ErrorInfo:
        if isinstance(body, dict) and isinstance(body.get("error"), str):  # the token endpoint
            reason = body.get("reason")
            return ErrorInfo(message=reason if isinstance(reason, str) else None, oauth_error=body["error"])
        if isinstance(body, dict) and isinstance(body.get("code"), int):
            message = body.get("message")
            return ErrorInfo(
                message=message if isinstance(message, str) else None, category=str(body["code"])
            )
        return super().error_info(body)


def missing_scopes(error: ProviderError) -> tuple[str, ...]:
    """The scopes a 4711 answer names (``does not contain scopes:[a, b]``)."""
    found = SCOPES_IN_MESSAGE.search(error.message or "")
    return tuple(s.strip() for s in found.group(1).split(",") if s.strip()) if found else ()


def classify(error: Exception, operation: Operation = "api") -> Failure:
    """124 -> revoked/expired token; 4711 -> scope lost (naming the scope); invalid_client -> revoked
    (the app's secret changed or it was deactivated: our configuration is fine); 429 and 5xx -> transient."""
    if isinstance(error, ProviderError):
        if error.oauth_error == "invalid_client":
            return Failure("revoked", REVOKED, code="invalid_client")
        if error.category == INVALID_TOKEN:
            return Failure("revoked", EXPIRED, code=INVALID_TOKEN)
        if error.category == MISSING_SCOPE:
            scopes = missing_scopes(error)
            return Failure(
                "scope_lost",
                "a permission was removed",
                feature=scopes[0] if scopes else None,
                code=MISSING_SCOPE,
            )
        if error.status == 429:
            return Failure("transient", "Zoom is rate limiting", code="429")
    return failures.classify(error, operation, provider_name=NAME)
