"""HubSpot's retry policy: how its answers are read and retried (providers/retry.py `decide`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from providers.hubspot.error_body import read_hubspot_error
from providers.retry import ErrorInfo, Rand, RetryPolicy, parse_retry_after


@dataclass(frozen=True)
class HubSpotPolicy(RetryPolicy):
    """HubSpot: 423 waits >= 2 s, 477 honours Retry-After, 429 backs off by `policyName`."""

    provider: str = "hubspot"
    display_name: str = "HubSpot"
    transient_statuses: frozenset[int] = frozenset({423, 477, 500, 502, 503, 504, 521, 523, 524})
    retry_after_statuses: frozenset[int] = frozenset({429, 477, 503})
    min_wait: Mapping[int, float] = field(default_factory=lambda: {423: 2.0})
    # 429 without Retry-After: wait about `seconds * attempt` by `policyName`; None gives up.
    policy_waits: Mapping[str, float | None] = field(
        default_factory=lambda: {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0, "DAILY": None}
    )

    def error_info(self, body: Any) -> ErrorInfo:
        fields = read_hubspot_error(body)  # `error` first, then `category`, `policyName`, `status`
        return ErrorInfo(
            message=fields.message,
            category=fields.code,
            correlation_id=fields.correlation_id,
            oauth_error=fields.error,
            legacy_status=fields.status if fields.status != "error" else None,
            sub_category=fields.sub_category,
        )

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return status == 403 and info.category == "MISSING_SCOPES"

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_after is not None:
            return retry_after
        name = body.get("policyName") if isinstance(body, dict) else None
        if isinstance(name, str) and name in self.policy_waits:
            seconds = self.policy_waits[name]
            return None if seconds is None else seconds * attempt * (1.0 + 0.1 * rand())
        return max(1.0, self.backoff(attempt, rand))
