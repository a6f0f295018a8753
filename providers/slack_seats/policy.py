"""Slack's retry policy and failure classification.

The Web API answers HTTP 200 with ``{"ok": false, "error": "<code>"}`` for almost every failure, and
HTTP 429 with ``Retry-After`` (seconds) and ``{"ok": false, "error": "ratelimited"}`` over a tier's
limit (the base rule waits it out). api.py turns an ``ok: false`` answer into a `ProviderError` whose
`category` is Slack's code; `classify` reads it:

- ``token_revoked``, ``account_inactive``, ``invalid_auth``, ``not_authed``, ``token_expired`` →
  *revoked* (the admin removed the app's access, left, or was deactivated): reconnect;
- ``missing_scope`` (Slack names the scope in ``needed``) → *scope lost*, naming it;
- ``not_allowed_token_type`` (a bot token where a user token is needed) and ``paid_only`` (access
  logs on a free plan) → *scope lost* for that feature: the rest keeps working;
- ``ratelimited`` / 429 and 5xx → *transient*.

The SCIM v2.0 API answers the body its reference's *Example error* gives, ``{"schemas":
["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "<error>", "status": 403}``, the detail one
of the error names of its *Errors* table (`plus_teams_only`, `no_such_user`, ...): the detail is kept
as the category. SCIM v1.1's ``{"Errors": {"description": "<error>", "code": 403}}`` is read too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers import failures
from providers.errors import ProviderError
from providers.failures import Failure, Operation
from providers.retry import ErrorInfo, RetryPolicy

PROVIDER, NAME = "slack_seats", "Slack"
REVOKED_CODES = frozenset(
    {"token_revoked", "account_inactive", "invalid_auth", "not_authed", "token_expired"}
)
RATE_LIMITED = "ratelimited"
MISSING_SCOPE, WRONG_TOKEN, PAID_ONLY = "missing_scope", "not_allowed_token_type", "paid_only"
REVOKED = "Slack no longer accepts Quolum's token for this workspace: it was revoked, or its admin left"
SCOPE_LOST = "Slack refused the `{scope}` scope: it was removed"
WRONG_TOKEN_REASON = "billing and activity need an admin's user token (Connect Slack billing)"
PAID_ONLY_REASON = "Slack keeps access logs on paid plans only"


@dataclass(frozen=True)
class SlackPolicy(RetryPolicy):
    provider: str = PROVIDER
    display_name: str = NAME

    def error_info(self, body: Any) -> ErrorInfo:
        if isinstance(body, dict) and isinstance(body.get("error"), str):  # the Web API
            return ErrorInfo(message=f"Slack answered {body['error']}", category=body["error"])
        errors = body.get("Errors") if isinstance(body, dict) else None
        if isinstance(errors, dict) and isinstance(errors.get("description"), str):  # SCIM v1.1
            return ErrorInfo(
                message=f"Slack answered {errors['description']}", category=errors["description"]
            )
        if isinstance(body, dict) and isinstance(body.get("detail"), str):  # SCIM v2.0
            return ErrorInfo(message=f"Slack answered {body['detail']}", category=body["detail"] or None)
        return super().error_info(body)


POLICY = SlackPolicy()


def classify(error: Exception, operation: Operation = "api") -> Failure:
    """What a failed Slack call means for the connection (see the module docstring)."""
    if isinstance(error, ProviderError):
        code = error.category
        if code in REVOKED_CODES:
            return Failure("revoked", REVOKED, code=code)
        if code == MISSING_SCOPE:
            scope = error.sub_category or "admin"
            return Failure("scope_lost", SCOPE_LOST.format(scope=scope), feature=scope, code=code)
        if code == WRONG_TOKEN:
            return Failure("scope_lost", WRONG_TOKEN_REASON, feature="admin", code=code)
        if code == PAID_ONLY:
            return Failure("scope_lost", PAID_ONLY_REASON, feature="team.accessLogs", code=code)
        if code == RATE_LIMITED or error.status == 429:
            return Failure("transient", "Slack is rate limiting", code=RATE_LIMITED)
    return failures.classify(error, operation, provider_name=NAME)
