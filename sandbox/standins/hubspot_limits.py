"""The HubSpot stand-in's rate limits, per portal, in rolling windows (HubSpot's usage guidelines)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from sandbox.standins.faults import RollingWindow
from sandbox.standins.hubspot_errors import rate_limited

TEN_SECONDLY_LIMIT = 110
SEARCH_SECONDLY_LIMIT = 5


class RateLimiter:
    """110 requests per rolling 10 s per portal; CRM search 5 per rolling second instead (searches are
    not counted in the 10-second budget and carry no rate-limit headers, per HubSpot's usage
    guidelines). Requests count when they arrive."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.ten_secondly = RollingWindow(TEN_SECONDLY_LIMIT, 10.0, clock)
        self.secondly = RollingWindow(SEARCH_SECONDLY_LIMIT, 1.0, clock)

    @property
    def violations(self) -> int:
        return self.ten_secondly.violations + self.secondly.violations

    def check(
        self, portal_id: int, search: bool, arrived: float | None = None
    ) -> tuple[Response | None, dict[str, str]]:
        if search:
            allowed = self.secondly.hit(portal_id, arrived)[0]
            return (None if allowed else rate_limited("SECONDLY")), {}
        allowed, remaining, _ = self.ten_secondly.hit(portal_id, arrived)
        headers = {
            "X-HubSpot-RateLimit-Max": str(TEN_SECONDLY_LIMIT),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
        return (None if allowed else rate_limited("TEN_SECONDLY_ROLLING")), headers
