"""SendGrid's retry policy: how its answers are read and retried (providers/retry.py `decide`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from providers.retry import ErrorInfo, Rand, RetryPolicy


@dataclass(frozen=True)
class SendGridPolicy(RetryPolicy):
    """SendGrid: any 403 is a missing scope; 429 waits until `X-RateLimit-Reset` (Unix seconds)."""

    provider: str = "sendgrid"
    display_name: str = "SendGrid"
    reset_margin: float = 0.5  # the reset is whole seconds and clocks drift a little

    def error_info(self, body: Any) -> ErrorInfo:
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            messages = [
                e["message"] for e in errors if isinstance(e, dict) and isinstance(e.get("message"), str)
            ]
            if messages:
                return ErrorInfo(message="; ".join(messages))
        return super().error_info(body)

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return status == 403

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        try:
            reset = float(response.headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return super().rate_limit_wait(response, body, attempt, now, rand)
        return max(0.0, reset - now) + self.reset_margin
