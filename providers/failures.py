"""What a provider failure means for a connection: pure functions, no I/O.

`classify(error, operation)` is the shared reading every provider's `classify` hook starts from (the
OAuth 2.0 codes of RFC 6749 and HubSpot's legacy ones, which its policy reads from its error bodies:
providers/hubspot/error_body.py). It turns a `ProviderError` into a `Failure`:
- *revoked*: a refresh refused for good (`invalid_grant`, `access_denied`, BAD_REFRESH_TOKEN, BAD_HUB),
  a 401 that survived one refresh, a SendGrid 401: an incident at once;
- *scope_lost*: 403 MISSING_SCOPES (HubSpot) or any SendGrid 403: a degraded incident naming the feature;
- *configuration*: `invalid_client` and the other BAD_CLIENT_* answers: our own app is misconfigured;
- *bad_code*: a code exchange refused (a person retries; never an incident);
- *transient*: 5xx, timeouts, 429, DNS and anything else unexplained: an incident only after 24 hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from providers.http import MissingScopes, NeedsReconnect, ProviderError, TransientError, Unauthorized

Kind = Literal["revoked", "scope_lost", "configuration", "bad_code", "transient"]
Operation = Literal["refresh", "exchange", "api"]

# OAuth `error` codes (RFC 6749 5.2) and HubSpot's legacy `status` values.
CONFIGURATION_CODES = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "BAD_CLIENT_ID",
        "BAD_CLIENT_SECRET",
        "BAD_REDIRECT_URI",
        "BAD_GRANT_TYPE",
        "BAD_SCOPES",
    }
)
REVOKED_CODES = frozenset({"invalid_grant", "access_denied", "BAD_REFRESH_TOKEN", "BAD_HUB"})

REVOKED_REASON = "{provider} no longer accepts Quolum's access: it was revoked or has expired"
MISCONFIGURED = "the bot's {provider} app is misconfigured"


@dataclass(frozen=True)
class Failure:
    kind: Kind
    reason: str  # a sentence fragment for the card and the alert; never a secret
    feature: str | None = None  # scope_lost: the scope (or endpoint) that stopped working
    code: str | None = None  # the field value that decided, for logs
    correlation_id: str | None = None

    @property
    def is_incident_now(self) -> bool:
        """Transient failures wait 24 hours; a person's retry (bad_code) is never an incident."""
        return self.kind in ("revoked", "scope_lost", "configuration")


def classify(
    error: Exception,
    operation: Operation = "api",
    *,
    provider_name: str,
    revoked_reasons: Mapping[str, str] | None = None,
) -> Failure:
    """What `error` (a `ProviderError` from providers/http.py) means; `operation` is what was tried.
    `revoked_reasons`: the provider's own sentence for a code that revokes (code -> reason)."""
    revoked_reasons = revoked_reasons or {}

    if not isinstance(error, ProviderError):
        return Failure("transient", f"{provider_name} could not be reached")
    correlation = error.correlation_id
    if isinstance(error, NeedsReconnect):
        return Failure("revoked", error.message, code="needs_reconnect")
    if isinstance(error, TransientError):
        return Failure("transient", f"{provider_name} is not answering", correlation_id=correlation)
    codes = [c for c in (error.oauth_error, error.category, error.legacy_status) if c]
    if any(c in CONFIGURATION_CODES for c in codes):
        return Failure(
            "configuration",
            MISCONFIGURED.format(provider=provider_name),
            code=codes[0],
            correlation_id=correlation,
        )
    if operation == "exchange":
        return Failure("bad_code", "the approval code was refused", code=codes[0] if codes else None)
    if isinstance(error, MissingScopes):
        return Failure(
            "scope_lost", "a permission was removed", code=error.category, correlation_id=correlation
        )
    if isinstance(error, Unauthorized):
        return Failure(
            "revoked", REVOKED_REASON.format(provider=provider_name), code="401", correlation_id=correlation
        )
    if operation == "refresh" and error.status == 400 and any(c in REVOKED_CODES for c in codes):
        code = next(c for c in codes if c in REVOKED_CODES)
        reason = next((revoked_reasons[c] for c in codes if c in revoked_reasons), None)
        return Failure(
            "revoked",
            reason or REVOKED_REASON.format(provider=provider_name),
            code=code,
            correlation_id=correlation,
        )
    return Failure(
        "transient",
        f"{provider_name} refused the request ({error.status or 'no answer'})",
        code=codes[0] if codes else None,
        correlation_id=correlation,
    )
