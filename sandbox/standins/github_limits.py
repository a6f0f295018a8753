"""The GitHub stand-in's rate limits, as GitHub documents them for the REST API.

Primary: 5,000 requests an hour per user (a personal access token counts against its owner). The
hour starts at the first request and every answer says where the user is in it:
`x-ratelimit-limit`, `-remaining`, `-used`, `-reset` (Unix seconds) and `-resource` (``core``).
Over it: 403 (or 429) "API rate limit exceeded", `x-ratelimit-remaining: 0`.

Secondary: at most 900 points a minute per user (a GET costs 1 point; POST, PATCH, PUT and DELETE
cost 5) and at most 100 requests at once. Over it: 403 (or 429) "You have exceeded a secondary rate
limit" with `retry-after` (seconds).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

HOUR = 3600.0
MINUTE = 60.0
WRITE_POINTS = 5


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    kind: str = ""  # "primary" | "secondary" when refused
    retry_after: int | None = None


class GitHubLimits:
    """Counts per user; `primary` requests an hour, `points` a minute, `concurrent` at once."""

    def __init__(self, primary: int = 5000, points: int = 900, concurrent: int = 100) -> None:
        self.primary, self.points, self.concurrent = primary, points, concurrent
        self._lock = threading.Lock()
        self._hours: dict[object, tuple[float, int]] = {}  # user -> (window start, used)
        self._minute: dict[object, deque[tuple[float, int]]] = {}  # user -> (time, points)
        self._running: dict[object, int] = {}
        self.violations = {"primary": 0, "secondary": 0}

    def hit(self, user: object, method: str, now: float) -> Verdict:
        """Count one request of `user` at `now`; say whether it may be served, with the headers."""
        cost = 1 if method in ("GET", "HEAD") else WRITE_POINTS
        with self._lock:
            start, used = self._hours.get(user, (now, 0))
            if now >= start + HOUR:
                start, used = now, 0
            reset = int(start + HOUR)
            if used >= self.primary:
                self.violations["primary"] += 1
                return Verdict(False, self._headers(self.primary, reset), "primary")
            spent = self._minute.setdefault(user, deque())
            while spent and spent[0][0] <= now - MINUTE:
                spent.popleft()
            running = self._running.get(user, 0)
            if sum(p for _, p in spent) + cost > self.points or running >= self.concurrent:
                self.violations["secondary"] += 1
                wait = int(spent[0][0] + MINUTE - now) + 1 if spent else 1
                return Verdict(False, self._headers(used, reset), "secondary", max(wait, 1))
            spent.append((now, cost))
            used += 1
            self._hours[user] = (start, used)
            self._running[user] = running + 1
            return Verdict(True, self._headers(used, reset))

    def done(self, user: object) -> None:
        """The request of `user` was answered (it no longer counts as running)."""
        with self._lock:
            self._running[user] = max(0, self._running.get(user, 0) - 1)

    def _headers(self, used: int, reset: int) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.primary),
            "x-ratelimit-remaining": str(max(self.primary - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }
