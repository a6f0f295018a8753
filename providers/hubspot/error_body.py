"""What a provider's error body says, read into plain fields (no I/O, imports nothing of ours)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorFields:
    """What a HubSpot error body says, field by field (all optional)."""

    error: str | None = None  # OAuth: invalid_grant, invalid_client, access_denied, ...
    category: str | None = None  # HubSpot: VALIDATION_ERROR, MISSING_SCOPES, EXPIRED_AUTHENTICATION, ...
    sub_category: str | None = None  # HubSpot: a finer code some errors carry
    policy_name: str | None = None  # 429: TEN_SECONDLY_ROLLING, SECONDLY, DAILY
    status: str | None = None  # legacy: BAD_REFRESH_TOKEN, BAD_HUB, ... ("error" on API errors)
    message: str | None = None
    correlation_id: str | None = None

    @property
    def code(self) -> str | None:
        """The one code that decides, in HubSpot's order: `error`, `category`, `policyName`, `status`."""
        status = self.status if self.status != "error" else None
        return self.error or self.category or self.policy_name or status


def read_hubspot_error(body: Any) -> ErrorFields:
    if not isinstance(body, dict):
        return ErrorFields()

    def text(key: str) -> str | None:
        value = body.get(key)
        return value if isinstance(value, str) and value else None

    return ErrorFields(
        error=text("error"),
        category=text("category"),
        sub_category=text("subCategory"),
        policy_name=text("policyName"),
        status=text("status"),
        message=text("message") or text("error_description"),
        correlation_id=text("correlationId"),
    )
