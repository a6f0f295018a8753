"""GitHub's retry policy: how its answers are read and retried (providers/retry.py `decide`).

GitHub refuses a request that goes too fast with 403 or 429 (its REST documentation, "Rate limits
for the REST API"): a primary limit (5,000 requests an hour for a token) says so with
`x-ratelimit-remaining: 0` and `x-ratelimit-reset`; a secondary limit (points a minute, requests at
once) with `retry-after`, or, when that is missing, "wait at least one minute". Every other 403 is
a scope or permission the token lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from providers.retry import ErrorInfo, Rand, RetryPolicy, parse_retry_after

RATE_LIMIT_WORDS = (
    "rate limit"  # in both of GitHub's messages: "API rate limit exceeded", "secondary rate limit"
)
SECONDARY_MIN_WAIT = 60.0  # GitHub: without retry-after, wait at least one minute


def is_rate_limit_message(message: str | None) -> bool:
    return RATE_LIMIT_WORDS in (message or "").lower()


@dataclass(frozen=True)
class GitHubPolicy(RetryPolicy):
    provider: str = "github"
    display_name: str = "GitHub"
    reset_margin: float = 1.0  # x-ratelimit-reset is whole seconds

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return status == 403 and not is_rate_limit_message(info.message)

    def is_rate_limited(self, status: int, info: ErrorInfo) -> bool:
        return status == 429 or (status == 403 and is_rate_limit_message(info.message))

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        """`retry-after` when sent; the primary limit's reset when nothing is left; else a minute or
        more (backing off)."""
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        if retry_after is not None:
            return retry_after
        if response.headers.get("x-ratelimit-remaining") == "0":
            try:
                return max(0.0, float(response.headers["x-ratelimit-reset"]) - now) + self.reset_margin
            except (KeyError, ValueError):
                pass
        return max(SECONDARY_MIN_WAIT, self.backoff(attempt, rand))
