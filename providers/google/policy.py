"""Google's retry policy and failure classification (providers/retry.py `decide`, providers/failures.py).

Google's JSON APIs answer errors as ``{"error": {"code", "message", "status", "errors": [{"reason",
"domain", "message"}]}}``; the first `reason` is kept as the error's `category`. Its token endpoint
answers OAuth's ``{"error": "invalid_grant", "error_description": …}``, kept as `oauth_error`.

- Going too fast: 429, or 403 with `rateLimitExceeded`, `userRateLimitExceeded` or `quotaExceeded`
  (the Directory API documents 403 for its per-user quota): wait and retry (exponential backoff, as
  Google's "Limits and quotas" pages ask; `Retry-After` when sent).
- Any other 403 (`insufficientPermissions`: the token lacks the API's scope; `forbidden`: the user the
  key acts as may not use that API) is a permission missing for that feature.
- At the token endpoint, `unauthorized_client` (a scope's delegation was removed, or the client ID's
  whole entry) and `invalid_grant` (the key was deleted, the user the key acts as is gone or no
  longer an administrator) mean the connection no longer works until an admin fixes it: revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from providers import failures
from providers.errors import ProviderError
from providers.failures import Failure, Operation
from providers.retry import ErrorInfo, Rand, RetryPolicy, parse_retry_after

NAME = "Google Workspace"
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
INSUFFICIENT, FORBIDDEN = "insufficientPermissions", "forbidden"
UNAUTHORIZED_CLIENT, INVALID_GRANT = "unauthorized_client", "invalid_grant"
MIN_RATE_WAIT = 1.0

DELEGATION_REMOVED = (
    "Google no longer lets the service account act for the domain: its domain-wide delegation was "
    "removed or lost a scope"
)
KEY_REJECTED = (
    "Google no longer accepts the service account's key, or the admin it acts as: the key was deleted, "
    "or that admin was removed or suspended"
)
TOKEN_REJECTED = "Google no longer accepts Quolum's access token"


@dataclass(frozen=True)
class GooglePolicy(RetryPolicy):
    provider: str = "google"
    display_name: str = NAME

    def error_info(self, body: Any) -> ErrorInfo:
        if isinstance(body, dict) and isinstance(body.get("error"), str):  # the token endpoint
            description = body.get("error_description")
            return ErrorInfo(
                message=description if isinstance(description, str) else None, oauth_error=body["error"]
            )
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            errors = error.get("errors")
            first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            message = error.get("message")
            reason = first.get("reason")
            status = error.get("status")
            return ErrorInfo(
                message=message if isinstance(message, str) else None,
                category=reason if isinstance(reason, str) else None,
                legacy_status=status if isinstance(status, str) else None,
            )
        return super().error_info(body)

    def is_rate_limited(self, status: int, info: ErrorInfo) -> bool:
        return status == 429 or (status == 403 and info.category in RATE_REASONS)

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return status == 403 and info.category not in RATE_REASONS

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_after is not None:
            return retry_after
        return MIN_RATE_WAIT + self.backoff(attempt, rand)


POLICY = GooglePolicy()


def classify(error: Exception, operation: Operation = "api", feature: str | None = None) -> Failure:
    """unauthorized_client / invalid_grant -> revoked; 401 -> revoked; a 403 that is not a quota ->
    scope lost for `feature`; 429, quotas and 5xx -> transient."""
    if isinstance(error, ProviderError):
        if error.oauth_error == UNAUTHORIZED_CLIENT:
            return Failure("revoked", DELEGATION_REMOVED, code=UNAUTHORIZED_CLIENT)
        if error.oauth_error == INVALID_GRANT:
            return Failure("revoked", KEY_REJECTED, code=INVALID_GRANT)
        if error.category in RATE_REASONS or error.status == 429:
            return Failure("transient", f"{NAME} is rate limiting", code=error.category or "429")
        if error.status == 403:
            return Failure("scope_lost", "a permission was removed", feature=feature, code=error.category)
        if error.status == 401 and not error.oauth_error:
            return Failure("revoked", TOKEN_REJECTED, code="401")
    return failures.classify(error, operation, provider_name=NAME)
